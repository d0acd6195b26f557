import Foundation
import GolemJobs
import Testing
import Yagna
@testable import GolemBackend

/// GolemBackend's time rules on a ``ManualClock``: shown by moving the time, not by waiting it out.
/// Nothing is rented: the yagna address is never answered (cleanups fail at once and are dropped).
@Suite struct GolemBackendClockTests {
    let directory = NSTemporaryDirectory() + "golem-clock-test-\(UUID().uuidString)"

    func backend(clock: ManualClock, pool: RentalPoolPolicy = RentalPoolPolicy()) throws -> GolemBackend {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let configuration = GolemBackendConfiguration(
            yagna: YagnaConfiguration(apiURL: "http://127.0.0.1:1", appKey: "unused", requestTimeout: .seconds(1)), budget: 10,
            cleanupPersistence: .zero, pool: pool, statePath: directory + "/state.sqlite"
        )
        let store = try SQLiteRentalStore(path: configuration.statePath, clock: clock)
        return GolemBackend(configuration: configuration, store: store, logger: testLogger, clock: clock)
    }

    @Test func anEndedAgreementsReservationIsFreedAfterInvoiceWaitNotBefore() async throws {
        let clock = ManualClock()
        let backend = try backend(clock: clock)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let wait = backend.configuration.invoiceWait
        try backend.payments.withLock { book throws(JobError) in
            try book.reserve(2, for: "negotiation-1")
            book.signed("agreement-1", reservation: "negotiation-1")
            book.terminated("agreement-1", at: clock.now)
        }

        backend.evictIdle()
        #expect(backend.reserved == 2)
        clock.advance(by: wait - .seconds(1))
        backend.evictIdle()
        #expect(backend.reserved == 2, "freed before invoiceWait")
        clock.advance(by: .seconds(1))
        backend.evictIdle()
        #expect(backend.reserved == 0, "still reserved after invoiceWait")
        await backend.shutdown(invoiceGrace: .zero)
    }

    @Test func anIdleRentalIsEndedAfterIdleTimeoutNotBefore() async throws {
        let clock = ManualClock()
        let backend = try backend(clock: clock, pool: RentalPoolPolicy(maxSize: 2, idleTimeout: .seconds(60)))
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let lease = Lease(
            agreementId: "agreement-1", activityId: "activity-1", provider: ProviderInfo(id: "0xp", name: "p"),
            key: "k", expires: clock.now + .seconds(3600)
        )
        backend.rentals.withLock { state in
            _ = state.pool.acquire(key: "k", now: clock.now)
            state.leases[lease.agreementId] = lease
        }
        await backend.giveBack(lease, healthy: true, cleaned: true)
        #expect(backend.poolSize.idle == 1)

        clock.advance(by: .seconds(59))
        backend.evictIdle()
        #expect(backend.poolSize.idle == 1, "evicted before idleTimeout")
        clock.advance(by: .seconds(1))
        backend.evictIdle()
        #expect(backend.poolSize.idle == 0, "kept after idleTimeout")
        #expect(backend.rentals.withLock { $0.leases[lease.agreementId] } == nil)
        await backend.shutdown(invoiceGrace: .zero)
    }
}
