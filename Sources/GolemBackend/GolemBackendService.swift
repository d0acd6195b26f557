import GolemJobs
import Logging
import ServiceLifecycle

/// Runs the Golem backend's background work as a `Service`: recovery and the allocation at start,
/// then pre-fill to `--pool-min`, payments, idle eviction and checks, and once an hour an extension
/// of the allocation's timeout; on graceful shutdown it ends every rental and releases the allocation
/// (see ``GolemBackend/shutdown(invoiceGrace:)``).
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
                    try? await backend.clock.sleep(for: .seconds(1))
                    backend.evictIdle()
                    ticks += 1
                    if ticks % 3600 == 0 { await backend.renewAllocation() }
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await backend.clock.sleep(for: backend.configuration.pool.idleCheckInterval)
                    await backend.checkIdle()
                }
            }
            // Pre-fill runs until shutdown and is over before it: a rental it is creating is then
            // ended by the cancellation and awaited with the other cleanups, never left behind.
            await withTaskGroup(of: Void.self) { prefill in
                prefill.addTask { await backend.keepMinimum() }
                // Until shutdown; the payment loop keeps running while shutdown waits for invoices.
                try? await gracefulShutdown()
                prefill.cancelAll()
            }
            await backend.shutdown(invoiceGrace: invoiceGrace)
            group.cancelAll()
        }
    }
}
