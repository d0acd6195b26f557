import Foundation
import Testing
import GolemJobs
@testable import Bridge

/// The journal's record of rejected requests' events.
@Suite struct JournalRejectionTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func record(_ journal: any JobJournal, jobId: String, body: String, at time: Date = t0) async throws -> [StoredEvent] {
        let rejected = RejectedRequest(jobId: jobId, body: Array(body.utf8), message: "bad", time: time, source: "t")
        return try await journal.recordRejection(
            rejected.key, jobId: jobId, replyTo: "r", correlationId: "c", events: rejected.events, now: time
        )
    }

    @Test(arguments: JournalKind.allCases) func sameRequestIsRecordedOnceAndDifferentBodiesApart(_ kind: JournalKind) async throws {
        try await JournalStore.with(kind) { store in
            let journal = try await store.open()
            let first = try await record(journal, jobId: "x", body: "{1}")
            #expect(first.map(\.kind) == [.error, .ended])
            #expect(first.allSatisfy { $0.replyTo == "r" && $0.correlationId == "c" })
            // Later, with another clock: the stored events come back unchanged.
            let again = try await record(journal, jobId: "x", body: "{1}", at: Self.t0 + 60)
            #expect(again == first)
            let other = try await record(journal, jobId: "x", body: "{2}")
            #expect(Set(other.map(\.envelope.id)).isDisjoint(with: first.map(\.envelope.id)))
            #expect(try await journal.unpublishedEvents().count == 4)
            #expect(try await journal.snapshot(jobId: "x") == nil)
        }
    }

    @Test(arguments: JournalKind.allCases) func acceptedJobGetsNoRejectionEvents(_ kind: JournalKind) async throws {
        try await JournalStore.with(kind) { store in
            let journal = try await store.open()
            _ = try await journal.accept(jobId: "y", request: [], replyTo: nil, correlationId: nil, now: Self.t0)
            #expect(try await record(journal, jobId: "y", body: "{}").isEmpty)
            #expect(try await journal.unpublishedEvents().isEmpty)
        }
    }

    @Test(arguments: JournalKind.allCases) func publishedRejectionsArePrunedAfterRetention(_ kind: JournalKind) async throws {
        try await JournalStore.with(kind) { store in
            let journal = try await store.open()
            let published = try await record(journal, jobId: "old", body: "{}")
            _ = try await record(journal, jobId: "unsent", body: "{}")
            try await journal.markPublished(eventIds: published.map(\.envelope.id))
            #expect(try await journal.unpublishedEvents().map(\.jobId) == ["unsent", "unsent"])
            // Already published: a repeat still gets them back, to send again with the same ids.
            #expect(try await record(journal, jobId: "old", body: "{}").map(\.envelope.id) == published.map(\.envelope.id))

            _ = try await journal.prune(finishedBefore: Self.t0 + 1)
            // Pruned: the same request would be told again (with the same ids); the unsent ones stay.
            #expect(try await record(journal, jobId: "old", body: "{}").map(\.envelope.id) == published.map(\.envelope.id))
            #expect(try await journal.unpublishedEvents().filter { $0.jobId == "unsent" }.count == 2)
        }
    }
}
