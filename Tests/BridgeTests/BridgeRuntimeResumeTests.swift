import Foundation
import Testing
import GolemJobs
@testable import Bridge

/// What a start does with an earlier run's journal: unconfirmed events again, unfinished jobs resumed.
@Suite struct BridgeRuntimeResumeTests {
    @Test func startedJobResumesWithTheNextAttemptAndSequenceAndNoSecondCreated() async throws {
        let harness = try RuntimeHarness()
        try await harness.acceptEarlier("r")
        try await harness.journalEarlier("r", .created, state: .new, attempt: 0)
        try await harness.journalEarlier("r", .started, state: .pending, attempt: 1)

        await harness.runtime.resumeUnfinished()
        await harness.finishWhenRunning("r")

        let events = harness.events(of: "r")
        #expect(events.map(\.kind) == ["started", "progress", "success", "ended"])
        #expect(events.map(\.sequence) == [3, 4, 5, 6])
        #expect(events[0].attempt == 2)
        #expect(try await harness.journal.unfinishedJobs().isEmpty)
    }

    @Test func jobWithAnOutcomeOnlyGetsItsEnded() async throws {
        let harness = try RuntimeHarness()
        try await harness.acceptEarlier("o")
        try await harness.journalEarlier("o", .created, state: .new, attempt: 0)
        try await harness.journalEarlier("o", .started, state: .pending, attempt: 1)
        try await harness.journalEarlier("o", .success, state: .done, attempt: 1)

        await harness.runtime.resumeUnfinished()

        #expect(harness.events(of: "o").map(\.kind) == ["ended"])
        #expect(harness.events(of: "o").map(\.sequence) == [4])
        #expect(harness.backend.acquired.isEmpty)
    }

    @Test func jobWithoutAttemptsLeftEndsInterrupted() async throws {
        let harness = try RuntimeHarness()
        _ = try await harness.journal.accept(
            jobId: "spent", request: Array(#"{"jobId":"spent","maxAttempts":1,"work":[{"run":"true"}]}"#.utf8),
            replyTo: nil, correlationId: nil, now: Date()
        )
        try await harness.journalEarlier("spent", .created, state: .new, attempt: 0)
        try await harness.journalEarlier("spent", .started, state: .pending, attempt: 1)

        await harness.runtime.resumeUnfinished()

        let events = harness.events(of: "spent")
        #expect(events.map(\.kind) == ["error", "ended"])
        #expect(events[0].errorCode == "interrupted")
        #expect(harness.backend.acquired.isEmpty)
    }

    @Test func unconfirmedEventsAreRepublishedWithTheirIds() async throws {
        let harness = try RuntimeHarness()
        try await harness.acceptEarlier("u")
        try await harness.journalEarlier("u", .created, state: .new, attempt: 0)

        await harness.runtime.republishUnpublished()

        #expect(harness.events(of: "u").map(\.id) == ["u-1"])
        await harness.flushMarks()
        #expect(try await harness.journal.unpublishedEvents().isEmpty)
    }
}
