import CoreMetrics
import Foundation
import GolemJobs
import Resilience

/// The bridge's metrics, named by Prometheus conventions (`golem_bridge_` prefix, `_total` counters,
/// durations in seconds); docs/metrics.md lists them. Labels take values from small fixed sets (reason
/// codes, outcomes, event kinds, roles), never a job ID. A no-op unless the process bootstrapped a
/// metrics backend or passes a `factory`.
public struct BridgeMetrics: Sendable {
    public static let prefix = "golem_bridge_"

    let factory: any MetricsFactory
    let accepted: Counter
    let duplicates: Counter
    let jobDurations: CoreMetrics.Timer
    let publishConfirms: CoreMetrics.Timer

    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
        accepted = Counter(label: Self.prefix + "requests_accepted_total", factory: factory)
        duplicates = Counter(label: Self.prefix + "requests_duplicate_total", factory: factory)
        jobDurations = CoreMetrics.Timer(label: Self.prefix + "job_duration_seconds", factory: factory)
        publishConfirms = CoreMetrics.Timer(label: Self.prefix + "event_publish_confirm_seconds", factory: factory)
        // Every series a label can take exists from the start, at 0, so `rate()` and `increase()`
        // see the first one too.
        for reason in RequestRejection.Reason.allCases { _ = counter("requests_rejected_total", [("reason", reason.rawValue)]) }
        _ = counter("jobs_ended_total", [("outcome", "success")])
        _ = counter("jobs_ended_total", [("outcome", "canceled")])
        for code in JobError.Code.allCases where code != .canceled { _ = counter("jobs_ended_total", [("outcome", "error"), ("code", code.rawValue)]) }
        for kind in JobEvent.Kind.allCases { _ = counter("events_published_total", [("event", kind.rawValue)]) }
        for role in ["publisher", "consumer"] { _ = counter("amqp_reconnects_total", [("role", role)]) }
    }

    /// The engine's gauges under this prefix: `golem_bridge_jobs_running`, `golem_bridge_jobs_waiting`.
    var engine: JobEngineMetrics { JobEngineMetrics(prefix: Self.prefix + "jobs_", factory: factory) }

    /// A request was journaled as a new job.
    func requestAccepted() { accepted.increment() }

    /// A request named a job ID this bridge already knows: not run again.
    func requestDuplicate() { duplicates.increment() }

    /// A request was dead-lettered; `reason` is its `x-golem-error-code`.
    func requestRejected(_ reason: RequestRejection.Reason) {
        counter("requests_rejected_total", [("reason", reason.rawValue)]).increment()
    }

    /// A job's one terminal outcome was journaled (`success`, `error` or `canceled`); errors carry
    /// their `error.code`.
    func jobEnded(_ event: JobEvent) {
        var dimensions = [("outcome", event.kind.rawValue)]
        if event.kind == .error { dimensions.append(("code", (event.error?.code ?? .internal).rawValue)) }
        counter("jobs_ended_total", dimensions).increment()
    }

    /// From the job's acceptance to its `ended`.
    func jobDuration(from created: Date, to ended: Date) {
        jobDurations.recordSeconds(max(0, ended.timeIntervalSince(created)))
    }

    /// An event was confirmed by the broker on the events exchange; `kind` is its `job-event` header.
    func eventPublished(kind: String, confirmedAfter latency: Duration) {
        let kind = JobEvent.Kind(rawValue: kind)?.rawValue ?? "unknown"
        counter("events_published_total", [("event", kind)]).increment()
        publishConfirms.recordSeconds(latency.seconds)
    }

    /// An AMQP connection of this `role` (`publisher` or `consumer`) is up again after a loss.
    func amqpReconnected(role: String) {
        counter("amqp_reconnects_total", [("role", role)]).increment()
    }

    /// Labelled counters are looked up by the backend on each use (it keeps one per label set).
    private func counter(_ name: String, _ dimensions: [(String, String)]) -> Counter {
        Counter(label: Self.prefix + name, dimensions: dimensions, factory: factory)
    }
}
