import Foundation
import GolemJobs
import Testing
@testable import Bridge

/// A bridge among others on the PostgreSQL journal: one heartbeat (``BridgeRuntime/renewLeases()``)
/// or one take-over round (``BridgeRuntime/takeOverOnce()``) at a time, no timers.
@Suite struct BridgeRuntimeLeaseTests {
    /// Journals an event of `jobId` as `journal`'s bridge did (id `<jobId>-<sequence>`), unpublished.
    static func journalEarlier(_ journal: PostgresJournal, _ jobId: String, _ kind: JobEvent.Kind, state: JobState, attempt: Int) async throws {
        let event = JobEvent(jobId: jobId, kind: kind, state: state, attempt: attempt, time: Date())
        let sequence = try await journal.nextSequence(jobId: jobId)
        let envelope = EventCodec.encode(event, id: "\(jobId)-\(sequence)", sequence: sequence, source: "dead", labels: [:])
        try await journal.append(event: event, envelope: envelope, sequence: sequence)
    }

    @Test func aJobWhoseOwnerDiedIsTakenOverAndEndsOnceHere() async throws {
        try await JournalStore.with(.postgres) { store in
            let dead = try await store.openPostgres(owner: "dead")
            _ = try await dead.accept(jobId: "t", request: RuntimeHarness.request("t"), replyTo: nil, correlationId: nil, now: Date())
            try await Self.journalEarlier(dead, "t", .created, state: .new, attempt: 0)
            try await Self.journalEarlier(dead, "t", .started, state: .pending, attempt: 1)
            try await dead.releaseLeases()  // as if its lease ran out

            let live = try await store.openPostgres(owner: "live")
            let harness = try RuntimeHarness(journal: { _ in live })
            await harness.runtime.takeOverOnce()
            await harness.finishWhenRunning("t")

            let events = harness.events(of: "t")
            // The dead bridge's unconfirmed events again (same ids), then the next attempt here.
            #expect(events.map(\.kind) == ["created", "started", "started", "progress", "success", "ended"])
            #expect(events.prefix(2).map(\.id) == ["t-1", "t-2"])
            #expect(events[2].attempt == 2)
            #expect(try await live.unfinishedJobs().isEmpty)
            await #expect(throws: LeaseLost.self) {
                try await Self.journalEarlier(dead, "t", .error, state: .rejected, attempt: 1)
            }
        }
    }

    @Test func aCancelOnlyAnotherBridgeHeardStopsTheJobAtTheNextHeartbeat() async throws {
        try await JournalStore.with(.postgres) { store in
            let live = try await store.openPostgres(owner: "live")
            let other = try await store.openPostgres(owner: "other")
            let harness = try RuntimeHarness(journal: { _ in live })
            await harness.submit(1, RuntimeHarness.request("c"))
            await harness.backend.waitUntilRunning("c")
            try await other.rememberCancel(jobId: "c", reason: "heard elsewhere", now: Date())

            await harness.runtime.renewLeases()
            await harness.waitForJobsToEnd()

            let events = harness.events(of: "c")
            #expect(events.suffix(2).map(\.kind) == ["canceled", "ended"])
            #expect(events.last?.errorCode == "canceled")
        }
    }

    @Test func aJobTakenOverElsewhereIsStoppedHereAndAddsNoEvent() async throws {
        try await JournalStore.with(.postgres) { store in
            let live = try await store.openPostgres(owner: "live")
            let other = try await store.openPostgres(owner: "other")
            let harness = try RuntimeHarness(journal: { _ in live })
            await harness.submit(1, RuntimeHarness.request("x"))
            await harness.backend.waitUntilRunning("x")
            // `started` journaled and sent (the pump runs beside the step).
            while harness.events(of: "x").count < 2 { try await Task.sleep(for: .milliseconds(10)) }
            // This bridge paused past its lease; the other one took the job.
            try await live.releaseLeases()
            #expect(try await other.claimUnfinished(includingOwn: false).map(\.jobId) == ["x"])

            await harness.runtime.renewLeases()
            await harness.waitForJobsToEnd()

            #expect(harness.events(of: "x").map(\.kind) == ["created", "started"])
            #expect(try await other.snapshot(jobId: "x")?.lastEvent == "started")
        }
    }
}
