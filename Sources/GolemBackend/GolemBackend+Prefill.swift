import Foundation
import GolemJobs
import Logging

extension GolemBackend {
    /// Keeps the pool at `configuration.pool.minSize` rentals (golem-js `min`) until cancelled: rents
    /// for the default package and market in the background, at start and whenever a rental is
    /// destroyed. A failure is logged and retried after a growing pause; jobs meanwhile take what the
    /// pool has or negotiate their own. Call after ``start()``; cancel it before ``shutdown(invoiceGrace:)``
    /// (a cancelled rental in progress ends what it created, as a job's would).
    func keepMinimum(checkEvery interval: Duration = .seconds(1)) async {
        let policy = configuration.pool
        guard policy.reuses, policy.minSize > 0 else { return }
        let (package, market, key) = requirements(package: nil, market: nil)
        let log = { var log = logger; log[metadataKey: "pool"] = "min"; return log }()
        var failures = 0
        log.info("filling the rental pool", metadata: ["min": "\(policy.minSize)", "max": "\(policy.maxSize)"])
        while !Task.isCancelled {
            let count = rentals.withLock { $0.closed ? 0 : $0.pool.startFilling() }
            guard count > 0 else {
                try? await clock.sleep(for: interval)
                continue
            }
            let ready = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<count {
                    group.addTask { await self.fillOne(package: package, market: market, key: key, logger: log) }
                }
                return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            if Task.isCancelled { return }
            failures = ready == count ? 0 : failures + 1
            if failures > 0 {
                let pause = policy.fillBackoff(failures: failures)
                log.notice("the rental pool is below its minimum; trying again", metadata: [
                    "missing": "\(count - ready)", "retry_in": "\(pause)", "failures": "\(failures)",
                ])
                try? await clock.sleep(for: pause)
            }
        }
    }

    /// Rents one provider for the pool. `true` when the rental is idle in the pool, ready to lend.
    private func fillOne(package: PackageSpec, market: MarketSpec, key: String, logger: Logger) async -> Bool {
        let lease: Lease
        do {
            lease = try await rent(package: package, market: market, key: key, jobId: "pool-min", logger: logger)
        } catch {
            rentals.withLock { $0.pool.fillFailed() }
            wakeWaiters()
            if !(error is CancellationError), !Task.isCancelled {
                logger.warning("could not rent a provider for the pool", metadata: ["error": "\(error)"])
            }
            return false
        }
        let destroy = rentals.withLock { state in
            let destroy = state.pool.filled(lease.agreementId, key: key, expires: lease.expires, now: clock.now)
            return destroy || state.closed
        }
        // A waiting job may take it now (or create, if it was not kept).
        wakeWaiters()
        if destroy {
            // Counted as a failure: a rental that expires too soon would otherwise be rented again at once.
            end(lease, reason: "not kept by the pool")
            return false
        }
        logger.info("pool rental ready", metadata: [
            "agreement": "\(lease.agreementId)", "activity": "\(lease.activityId)", "provider": "\(lease.provider.id)",
        ])
        return true
    }
}
