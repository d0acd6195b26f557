import GolemJobs
import Logging
import ServiceLifecycle

/// Runs the Golem backend's background work as a `Service`: recovery and the allocation at start,
/// then payments, idle eviction and allocation renewal; on graceful shutdown it ends every rental
/// and releases the allocation (see ``GolemBackend/shutdown(invoiceGrace:)``).
///
/// Put it before the bridge in the `ServiceGroup`: services stop in reverse order, so the bridge
/// drains its jobs first.
public struct GolemBackendService: Service {
    public let backend: GolemBackend
    public var invoiceGrace: Duration

    public init(backend: GolemBackend, invoiceGrace: Duration = .seconds(15)) {
        self.backend = backend
        self.invoiceGrace = invoiceGrace
    }

    public func run() async throws {
        try await backend.start()
        let backend = backend
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await backend.runPayments() }
            group.addTask {
                var ticks = 0
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    backend.evictIdle()
                    ticks += 1
                    if ticks % 3600 == 0 { await backend.renewAllocation() }
                }
            }
            // Until shutdown; the payment loop keeps running while shutdown waits for invoices.
            try? await gracefulShutdown()
            await backend.shutdown(invoiceGrace: invoiceGrace)
            group.cancelAll()
        }
    }
}
