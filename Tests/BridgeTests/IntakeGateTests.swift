@testable import Bridge
import Testing

@Suite struct IntakeGateTests {
    @Test func permitsUpToTheLimitThenWaits() async {
        let gate = IntakeGate(permits: 2)
        #expect(await gate.acquire(timeout: .seconds(1)))
        #expect(await gate.acquire(timeout: .seconds(1)))
        #expect(await gate.acquire(timeout: .milliseconds(50)) == false)
    }

    @Test func releaseHandsThePermitToAWaiter() async {
        let gate = IntakeGate(permits: 1)
        #expect(await gate.acquire(timeout: .seconds(1)))
        async let waiter = gate.acquire(timeout: .seconds(30))
        try? await Task.sleep(for: .milliseconds(50))
        gate.release()
        #expect(await waiter)
        // The permit went to the waiter, not back to the pool.
        #expect(await gate.acquire(timeout: .milliseconds(50)) == false)
    }

    @Test func cancelledWaiterGivesUpWithoutTakingAPermit() async {
        let gate = IntakeGate(permits: 1)
        #expect(await gate.acquire(timeout: .seconds(1)))
        let waiter = Task { await gate.acquire(timeout: .seconds(30)) }
        try? await Task.sleep(for: .milliseconds(50))
        waiter.cancel()
        #expect(await waiter.value == false)
        gate.release()
        #expect(await gate.acquire(timeout: .milliseconds(50)))
    }

    @Test func closeRefusesWaitersAndLaterAcquires() async {
        let gate = IntakeGate(permits: 1)
        #expect(await gate.acquire(timeout: .seconds(1)))
        let waiter = Task { await gate.acquire(timeout: .seconds(3600)) }
        gate.close()
        #expect(await waiter.value == false)
        gate.release()
        #expect(await gate.acquire(timeout: .seconds(3600)) == false)
    }
}
