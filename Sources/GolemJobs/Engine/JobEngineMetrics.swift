import CoreMetrics

/// The engine's gauges (swift-metrics): jobs holding a concurrency slot, and started jobs waiting
/// for one. A no-op unless the process bootstrapped a metrics backend or passes a `factory`.
public struct JobEngineMetrics: Sendable {
    /// `<prefix>running`: jobs holding a slot (acquiring, running, or in backoff between attempts).
    let running: Gauge
    /// `<prefix>waiting`: started jobs waiting in `new` for a slot.
    let waiting: Gauge

    /// - Parameter prefix: the start of both names, e.g. `golem_bridge_jobs_`.
    public init(prefix: String = "golem_jobs_", factory: any MetricsFactory = MetricsSystem.factory) {
        running = Gauge(label: prefix + "running", factory: factory)
        waiting = Gauge(label: prefix + "waiting", factory: factory)
        running.record(0)
        waiting.record(0)
    }
}
