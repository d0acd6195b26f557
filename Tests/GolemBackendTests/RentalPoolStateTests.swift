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
        #expect(pool.acquire(key: "B", now: t0) == .create(evicting: []))
        #expect(pool.acquire(key: "A", now: t0) == .reuse("r1"))
        #expect(pool.size == 2)
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
        #expect(pool.acquire(key: "B", now: t0) == .create(evicting: ["r1"]))
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
        #expect(pool.acquire(key: "A", now: t0 + .seconds(200)) == .create(evicting: []))
        #expect(pool.evict(now: t0 + .seconds(200)) == ["r2"])
    }

    @Test func aFailedCreationFreesItsSlot() {
        var pool = RentalPoolState<String>(policy: RentalPoolPolicy(maxSize: 1))
        _ = pool.acquire(key: "A", now: t0)
        pool.destroyed()
        #expect(pool.acquire(key: "A", now: t0) == .create(evicting: []))
    }
}
