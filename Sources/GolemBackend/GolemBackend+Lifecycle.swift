import Foundation
import GolemJobs
import Logging
import Resilience
import Yagna

extension GolemBackend {
    /// Recovery, then the allocation: ends what a crashed run left rented (destroys its activities,
    /// terminates its agreements; their invoices are still accepted by the payment loop), then
    /// reuses the recorded allocation (amended) or creates one.
    public func start() async throws {
        let (agreements, activities) = try await store.leftovers()
        let owed = try await store.agreements()
        payments.withLock { $0.recovered(owed) }
        if !agreements.isEmpty || !activities.isEmpty {
            logger.notice("ending what an earlier run left rented", metadata: ["agreements": "\(agreements.count)", "activities": "\(activities.count)"])
        }
        // Once each: the start must not wait out a yagna outage; what fails stays for the next start.
        for activity in activities { await destroyActivity(activity, persist: false) }
        for agreement in agreements { await terminateAgreement(agreement, reason: "the requestor restarted", persist: false) }
        _ = try await session()
    }

    func openSession() async throws -> Session {
        let lifetime = clock.date.addingTimeInterval(configuration.allocationLifetime.seconds)
        let total = "\(configuration.budget)"
        var allocation: Allocation?
        if let recorded = try await store.allocationId() {
            do {
                allocation = try await client.amendAllocation(recorded, totalAmount: total, timeout: lifetime)
                logger.info("reusing the allocation of an earlier run", metadata: ["allocation": "\(recorded)"])
            } catch let error as YagnaError where error.code == .notFound || error.code == .conflict {
                logger.info("the recorded allocation is gone; creating a new one", metadata: ["allocation": "\(recorded)"])
            } catch let error as YagnaError where error.code == .http(400) || error.code == .http(500) {
                // An amend below what was spent is refused: keep it as it is.
                allocation = try? await client.allocation(recorded)
            }
        }
        if allocation == nil {
            let address = try await client.identity()
            allocation = try await client.createAllocation(totalAmount: total, platform: configuration.platform, address: address, timeout: lifetime)
            try await store.setAllocationId(allocation!.allocationId)
            logger.info("allocation created", metadata: ["allocation": "\(allocation!.allocationId)", "budget": "\(total)", "platform": "\(configuration.platform)"])
        }
        let decorations = try await client.demandDecorations(allocationIds: [allocation!.allocationId])
        return Session(allocationId: allocation!.allocationId, decorations: decorations)
    }

    /// Pushes the allocation's timeout to `allocationLifetime` from now, keeping its total.
    /// ``GolemBackendService`` calls it about once an hour, whatever the lifetime, so the allocation
    /// outlives a running backend only while `allocationLifetime` is longer than an hour. When the
    /// session cannot be had it does nothing, a failed amend is logged, and the next call tries again.
    func renewAllocation() async {
        guard let session = try? await session() else { return }
        let lifetime = clock.date.addingTimeInterval(configuration.allocationLifetime.seconds)
        do {
            let allocation = try await client.allocation(session.allocationId)
            _ = try await client.amendAllocation(session.allocationId, totalAmount: allocation.totalAmount, timeout: lifetime)
        } catch {
            logger.warning("could not amend the allocation's timeout", metadata: ["error": "\(error)"])
        }
    }

    /// Graceful shutdown: no new rentals; idle ones are ended; cleanups finish; invoices still owed
    /// are awaited up to `invoiceGrace`; then the allocation is released unless money is still owed
    /// (then it stays recorded, and the next start pays from it).
    public func shutdown(invoiceGrace: Duration) async {
        let (leases, waiters) = rentals.withLock { state in
            state.closed = true
            return (state.pool.drain().compactMap { state.leases[$0] }, state.takeWaiters())
        }
        for waiter in waiters { waiter.resume() }
        for lease in leases { end(lease, reason: "the requestor is shutting down") }
        // Leases still lent out are ended as their jobs release them (closed → destroy).
        while let cleanups = Optional(state.withLock({ Array($0.cleanups.values) })), !cleanups.isEmpty {
            for cleanup in cleanups { await cleanup.value }
        }
        let deadline = clock.now + invoiceGrace
        while clock.now < deadline, !((try? await store.agreements()) ?? []).isEmpty {
            try? await clock.sleep(for: .milliseconds(250))
        }
        let unpaid = (try? await store.agreements()) ?? []
        guard let session = try? await state.withLock({ $0.session })?.value else { return }
        if unpaid.isEmpty {
            do {
                try await client.releaseAllocation(session.allocationId)
                try await store.setAllocationId(nil)
                logger.info("allocation released", metadata: ["allocation": "\(session.allocationId)"])
            } catch {
                logger.warning("could not release the allocation; the next start reuses it", metadata: ["error": "\(error)"])
            }
        } else {
            logger.notice("invoices still owed; the allocation is kept for the next start to pay them", metadata: ["agreements": "\(unpaid.count)"])
        }
    }
}
