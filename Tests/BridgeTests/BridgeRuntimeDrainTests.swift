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

    /// With a grace of an hour, the drain returns when the last job ends, with its outcome published.
    @Test func drainEndsWhenTheLastJobEnds() async throws {
        let harness = try RuntimeHarness(concurrency: 2, backlog: 0)
        try await harness.acceptEarlier("a")
        try await harness.acceptEarlier("b")
        await harness.runtime.resumeUnfinished()
        await harness.backend.waitUntilRunning("a")
        await harness.backend.waitUntilRunning("b")

        async let drained: Void = harness.runtime.drain(grace: .seconds(3600))
        harness.backend.finish("a")
        harness.backend.finish("b")
        await drained

        #expect(harness.runtime.jobsInFlight == 0)
        for job in ["a", "b"] {
            #expect(harness.events(of: job).map(\.kind) == ["created", "started", "progress", "success", "ended"])
        }
        #expect(try await harness.journal.unfinishedJobs().isEmpty)
    }

    /// When the grace is over, running jobs are suspended: no outcome, the attempt given back, and the
    /// journal keeps them for the next start.
    @Test func drainSuspendsWhatOutlivesTheGrace() async throws {
        let harness = try RuntimeHarness(concurrency: 1, backlog: 0)
        try await harness.acceptEarlier("slow")
        await harness.runtime.resumeUnfinished()
        await harness.backend.waitUntilRunning("slow")

        await harness.runtime.drain(grace: .zero)

        #expect(harness.runtime.jobsInFlight == 0)
        #expect(harness.events(of: "slow").map(\.kind) == ["created", "started"])
        let record = try #require(try await harness.journal.unfinishedJobs().first)
        #expect(record.jobId == "slow")
        #expect(record.suspensions == 1)
    }

    /// Once draining began, a request waiting for a slot goes back to the queue instead of running.
    @Test func requestWaitingForASlotIsRequeuedWhenDrainBegins() async throws {
        let harness = try RuntimeHarness(concurrency: 1, backlog: 0)
        await harness.runtime.handleSubmit(RuntimeHarness.delivery(1, RuntimeHarness.request("running")), consumer: harness.acks)
        await harness.backend.waitUntilRunning("running")
        async let waiting: Void = harness.runtime.handleSubmit(
            RuntimeHarness.delivery(2, RuntimeHarness.request("waiting")), consumer: harness.acks
        )
        harness.runtime.beginDraining()
        await waiting

        #expect(harness.acks[2] == .nack(requeue: true))
        #expect(try await harness.journal.job(jobId: "waiting") == nil)
        await harness.runtime.drain(grace: .zero)
    }

    /// A broker that is gone holds the suspended jobs' pumps in their publish retries; after the bound
    /// the drain stops them, and the journal keeps the job (and what it journaled) for the next start.
    @Test(.timeLimit(.minutes(1))) func drainStopsPumpsThatCannotPublish() async throws {
        let harness = try RuntimeHarness(clock: ImmediateClock())
        harness.publisher.failing = true
        await harness.submit(1, RuntimeHarness.request("unsent"))
        await harness.backend.waitUntilRunning("unsent")

        await harness.runtime.drain(grace: .seconds(3600))

        #expect(harness.runtime.jobsInFlight == 0)
        #expect(harness.publisher.messages.isEmpty)
        #expect(try await harness.journal.unfinishedJobs().map(\.jobId) == ["unsent"])
    }
}
