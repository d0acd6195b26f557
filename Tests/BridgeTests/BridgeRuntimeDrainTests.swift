import Foundation
import Testing
import GolemJobs
@testable import Bridge

/// Graceful shutdown: `drain` lets running jobs end within the grace, suspends the rest, and starts
/// nothing once it began.
@Suite struct BridgeRuntimeDrainTests {
    /// The shutdown race of issue 11: with one slot, `first` runs and `second` waits for the slot in the
    /// resume loop. The drain suspends `first`, which frees its permit; `second` must not start then.
    @Test func aPermitFreedBySuspendingStartsNoJob() async throws {
        let harness = try RuntimeHarness(concurrency: 1, backlog: 0)
        try await harness.acceptEarlier("first")
        try await harness.acceptEarlier("second")
        let resume = Task { await harness.runtime.resumeUnfinished() }
        await harness.backend.waitUntilRunning("first")

        await harness.runtime.drain(grace: .zero)
        await resume.value

        let second = await harness.engine.job(id: "second")
        #expect(second == nil, "a job was started after the drain suspended the running ones")
        #expect(harness.backend.acquired == ["first"])
        // Both are left for the next start.
        #expect(try await harness.journal.unfinishedJobs().map(\.jobId) == ["first", "second"])
        await harness.engine.suspendAll()
    }
}
