import Testing
@testable import GolemBackend

/// The pool's policy, driven with explicit instants (no waiting, no real clock).
@Suite struct RentalPoolStateTests {
    let t0 = ContinuousClock.now
    var far: ContinuousClock.Instant { t0 + .seconds(3600) }

    @Test func aReleasedHealthyRentalIsReusedByTheSameRequirementsOnly() {
        var pool = RentalPoolState<String>(policy: RentalPoolPolicy(maxSize: 2))
        #expect(pool.acquire(key: "A", now: t0) == .create(evicting: []))
        #expect(pool.release("r1", key: "A", healthy: true, expires: far, now: t0) == false)
        #expect(pool.cleaned("r1", ok: true) == false)
        #expect(pool.acquire(key: "B", now: t0) == .create(evicting: []))
        #expect(pool.acquire(key: "A", now: t0) == .reuse("r1"))
        #expect(pool.size == 2)
    }

    @Test func aKeptRentalIsLentOnlyAfterItsCleanupAndAJobWaitsForItRatherThanRenting() {
        var pool = RentalPoolState<String>(policy: RentalPoolPolicy(maxSize: 4))
        _ = pool.acquire(key: "A", now: t0)
        #expect(pool.release("r1", key: "A", healthy: true, expires: far, now: t0) == false)
        #expect(pool.idle.map(\.cleaning) == [true])
        // Below maxSize, yet the job waits: a cleanup is one batch, a new rental about a second.
        #expect(pool.acquire(key: "A", now: t0) == .wait)
        #expect(pool.acquire(key: "B", now: t0) == .create(evicting: []), "other requirements do not wait for it")
        #expect(pool.cleaned("r1", ok: true) == false)
        #expect(pool.acquire(key: "A", now: t0) == .reuse("r1"))
        // Two waited for one cleaned rental: the second, finding none left, rents.
        #expect(pool.acquire(key: "A", now: t0) == .create(evicting: []))
    }

    @Test func aRentalWhoseCleanupFailedIsDestroyedNotLent() {
        var pool = RentalPoolState<String>(policy: RentalPoolPolicy(maxSize: 1))
        _ = pool.acquire(key: "A", now: t0)
        _ = pool.release("r1", key: "A", healthy: true, expires: far, now: t0)
        #expect(pool.cleaned("r1", ok: false) == true)
        #expect(pool.idle.isEmpty)
        #expect(pool.acquire(key: "A", now: t0) == .create(evicting: []))
    }

    @Test func aCleanupThatEndsAfterItsRentalWasTakenOutDestroysNothingTwice() {
        var pool = RentalPoolState<String>(policy: RentalPoolPolicy(maxSize: 2, minSize: 0))
        _ = pool.acquire(key: "A", now: t0)
        _ = pool.acquire(key: "A", now: t0)
        _ = pool.release("r1", key: "A", healthy: true, expires: far, now: t0)
        _ = pool.release("r2", key: "A", healthy: true, expires: far, now: t0)
        #expect(pool.lost("r1") == true)           // the idle check ended it meanwhile
        #expect(pool.drain() == ["r2"])            // shutdown ended the other
        #expect(pool.cleaned("r1", ok: false) == false)
        #expect(pool.cleaned("r2", ok: true) == false)
        #expect(pool.idle.isEmpty)
    }

    @Test func aFailedRentalIsDestroyedNotReused() {
        var pool = RentalPoolState<String>(policy: RentalPoolPolicy(maxSize: 2))
        _ = pool.acquire(key: "A", now: t0)
        #expect(pool.release("r1", key: "A", healthy: false, expires: far, now: t0) == true)
        #expect(pool.acquire(key: "A", now: t0) == .create(evicting: []))
    }

    @Test func atMaxSizeAnIdleRentalOfAnotherKeyMakesRoomElseWait() {
        var pool = RentalPoolState<String>(policy: RentalPoolPolicy(maxSize: 1))
        _ = pool.acquire(key: "A", now: t0)
        #expect(pool.acquire(key: "B", now: t0) == .wait)
        _ = pool.release("r1", key: "A", healthy: true, expires: far, now: t0)
        #expect(pool.acquire(key: "B", now: t0) == .create(evicting: ["r1"]), "even while it is being cleaned")
        #expect(pool.size == 1)
    }

    @Test func reuseOffMeansOneAgreementPerJob() {
        var pool = RentalPoolState<String>(policy: RentalPoolPolicy(maxSize: 0))
        #expect(pool.acquire(key: "A", now: t0) == .create(evicting: []))
        #expect(pool.release("r1", key: "A", healthy: true, expires: far, now: t0) == true)
        #expect(pool.idle.isEmpty)
    }

    @Test func reuseOffRentsForEveryRunningJobAtOnce() {
        var pool = RentalPoolState<String>(policy: RentalPoolPolicy(maxSize: 0))
        for _ in 0..<4 {
            #expect(pool.acquire(key: "A", now: t0) == .create(evicting: []))
        }
        #expect(pool.busy == 4)
        #expect(pool.release("r1", key: "A", healthy: true, expires: far, now: t0) == true)
        #expect(pool.busy == 3)
    }

    @Test func idleRentalsAreEvictedAfterTheTimeoutKeepingTheMinimum() {
        var pool = RentalPoolState<String>(policy: RentalPoolPolicy(maxSize: 4, minSize: 1, idleTimeout: .seconds(60)))
        for id in ["r1", "r2", "r3"] {
            _ = pool.acquire(key: id, now: t0)
        }
        _ = pool.release("r1", key: "r1", healthy: true, expires: far, now: t0)
        _ = pool.release("r2", key: "r2", healthy: true, expires: far, now: t0 + .seconds(30))
        _ = pool.release("r3", key: "r3", healthy: true, expires: far, now: t0 + .seconds(50))
        #expect(pool.evict(now: t0 + .seconds(59)) == [])
        #expect(pool.evict(now: t0 + .seconds(60)) == ["r1"])
        #expect(pool.evict(now: t0 + .seconds(200)) == ["r2"])  // r3 stays: minSize 1
        #expect(pool.idle.map(\.id) == ["r3"])
    }

    @Test func aRentalNearItsExpiryIsNeitherKeptNorLent() {
        var pool = RentalPoolState<String>(policy: RentalPoolPolicy(maxSize: 2, expiryMargin: .seconds(120)))
        _ = pool.acquire(key: "A", now: t0)
        #expect(pool.release("r1", key: "A", healthy: true, expires: t0 + .seconds(100), now: t0) == true)
        _ = pool.acquire(key: "A", now: t0)
        #expect(pool.release("r2", key: "A", healthy: true, expires: t0 + .seconds(300), now: t0) == false)
        _ = pool.cleaned("r2", ok: true)
        #expect(pool.acquire(key: "A", now: t0 + .seconds(200)) == .create(evicting: []))
        #expect(pool.evict(now: t0 + .seconds(200)) == ["r2"])
    }

    @Test func aFailedCreationFreesItsSlot() {
        var pool = RentalPoolState<String>(policy: RentalPoolPolicy(maxSize: 1))
        _ = pool.acquire(key: "A", now: t0)
        pool.destroyed()
        #expect(pool.acquire(key: "A", now: t0) == .create(evicting: []))
    }

    // MARK: - Pre-fill to minSize

    @Test func theShortfallCountsIdleLentAndCreatingRentalsAndNeverPassesTheMaximum() {
        let policy = RentalPoolPolicy(maxSize: 4, minSize: 3)
        #expect(RentalPoolState<String>.shortfall(idle: 0, busy: 0, filling: 0, policy: policy) == 3)
        #expect(RentalPoolState<String>.shortfall(idle: 1, busy: 0, filling: 0, policy: policy) == 2)
        #expect(RentalPoolState<String>.shortfall(idle: 0, busy: 1, filling: 1, policy: policy) == 1)
        #expect(RentalPoolState<String>.shortfall(idle: 2, busy: 1, filling: 0, policy: policy) == 0)
        #expect(RentalPoolState<String>.shortfall(idle: 2, busy: 2, filling: 0, policy: policy) == 0)
        #expect(RentalPoolState<String>.shortfall(idle: 0, busy: 5, filling: 0, policy: policy) == 0)
        // minSize is clamped to maxSize; reuse off never pre-fills.
        #expect(RentalPoolState<String>.shortfall(idle: 0, busy: 0, filling: 0, policy: RentalPoolPolicy(maxSize: 2, minSize: 5)) == 2)
        #expect(RentalPoolState<String>.shortfall(idle: 0, busy: 0, filling: 0, policy: RentalPoolPolicy(maxSize: 0, minSize: 3)) == 0)
        #expect(RentalPoolState<String>.shortfall(idle: 0, busy: 0, filling: 0, policy: RentalPoolPolicy(maxSize: 4)) == 0)
    }

    @Test func atStartThePoolFillsToTheMinimumOnceAndKeepsThoseIdle() {
        var pool = RentalPoolState<String>(policy: RentalPoolPolicy(maxSize: 4, minSize: 2))
        #expect(pool.startFilling() == 2)
        #expect(pool.startFilling() == 0)  // already under way
        #expect(pool.size == 2)
        #expect(pool.filled("r1", key: "A", expires: far, now: t0) == false)
        #expect(pool.filled("r2", key: "A", expires: far, now: t0) == false)
        #expect(pool.idle.map(\.id) == ["r1", "r2"])
        #expect(pool.startFilling() == 0)
        // A job takes a pre-filled rental: no new one, the pool still holds two.
        #expect(pool.acquire(key: "A", now: t0) == .reuse("r2"))
        #expect(pool.startFilling() == 0)
    }

    @Test func aDestroyedRentalIsReplacedToStayAtTheMinimum() {
        var pool = RentalPoolState<String>(policy: RentalPoolPolicy(maxSize: 4, minSize: 1))
        _ = pool.startFilling()
        _ = pool.filled("r1", key: "A", expires: far, now: t0)
        #expect(pool.acquire(key: "A", now: t0) == .reuse("r1"))
        // The job failed on it: destroyed, so the pool is below its minimum again.
        #expect(pool.release("r1", key: "A", healthy: false, expires: far, now: t0) == true)
        #expect(pool.startFilling() == 1)
        // A lent rental lost (e.g. failed validation) counts the same way.
        _ = pool.filled("r2", key: "A", expires: far, now: t0)
        _ = pool.acquire(key: "A", now: t0)
        pool.destroyed()
        #expect(pool.startFilling() == 1)
    }

    @Test func anIdleRentalEvictedNearExpiryIsReplaced() {
        var pool = RentalPoolState<String>(policy: RentalPoolPolicy(maxSize: 2, minSize: 1, expiryMargin: .seconds(120)))
        _ = pool.startFilling()
        _ = pool.filled("r1", key: "A", expires: t0 + .seconds(600), now: t0)
        #expect(pool.evict(now: t0 + .seconds(300)) == [])  // minSize keeps it past idleTimeout (60 s)
        #expect(pool.startFilling() == 0)
        #expect(pool.evict(now: t0 + .seconds(500)) == ["r1"])
        #expect(pool.startFilling() == 1)
    }

    @Test func aFailedFillFreesItsSlotAndIsTriedAgain() {
        var pool = RentalPoolState<String>(policy: RentalPoolPolicy(maxSize: 1, minSize: 1))
        #expect(pool.startFilling() == 1)
        #expect(pool.acquire(key: "A", now: t0) == .wait)  // the only slot is being filled
        pool.fillFailed()
        #expect(pool.size == 0)
        #expect(pool.startFilling() == 1)
    }

    @Test func jobsAndFillsTogetherNeverPassTheMaximum() {
        var pool = RentalPoolState<String>(policy: RentalPoolPolicy(maxSize: 2, minSize: 2))
        #expect(pool.acquire(key: "A", now: t0) == .create(evicting: []))  // a job came first
        #expect(pool.startFilling() == 1)
        #expect(pool.acquire(key: "A", now: t0) == .wait)
        #expect(pool.size == 2)
        // The job's rental comes back while the fill is under way: kept, the pool is full.
        #expect(pool.release("j1", key: "A", healthy: true, expires: far, now: t0) == false)
        #expect(pool.filled("r1", key: "A", expires: far, now: t0) == false)
        #expect(pool.size == 2)
        #expect(pool.startFilling() == 0)
    }

    @Test func aFillThatNoLongerFitsOrExpiresSoonIsDestroyed() {
        var pool = RentalPoolState<String>(policy: RentalPoolPolicy(maxSize: 1, minSize: 1, expiryMargin: .seconds(120)))
        _ = pool.startFilling()
        #expect(pool.filled("r1", key: "A", expires: t0 + .seconds(60), now: t0) == true)
        #expect(pool.idle.isEmpty)
        #expect(pool.size == 0)
    }

    @Test func failedFillsBackOffExponentiallyUpToTheCap() {
        let policy = RentalPoolPolicy(maxSize: 1, minSize: 1, fillRetryDelay: .seconds(2), fillRetryMaxDelay: .seconds(60))
        #expect(policy.fillBackoff(failures: 0) == .zero)
        #expect(policy.fillBackoff(failures: 1) == .seconds(2))
        #expect(policy.fillBackoff(failures: 2) == .seconds(4))
        #expect(policy.fillBackoff(failures: 5) == .seconds(32))
        #expect(policy.fillBackoff(failures: 6) == .seconds(60))
        #expect(policy.fillBackoff(failures: 1000) == .seconds(60))
    }

    @Test func anIdleRentalFoundDeadIsDroppedAndReplacedButALentOneIsLeftToItsJob() {
        var pool = RentalPoolState<String>(policy: RentalPoolPolicy(maxSize: 4, minSize: 2))
        _ = pool.startFilling()
        _ = pool.filled("r1", key: "A", expires: far, now: t0)
        _ = pool.filled("r2", key: "A", expires: far, now: t0)
        #expect(pool.acquire(key: "A", now: t0) == .reuse("r2"))
        #expect(pool.lost("r2") == false)  // lent: its job validates it
        #expect(pool.lost("r1") == true)
        #expect(pool.idle.isEmpty)
        #expect(pool.lost("r1") == false)
        #expect(pool.startFilling() == 1)
    }
}
