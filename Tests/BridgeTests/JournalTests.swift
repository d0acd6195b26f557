import Foundation
import Testing
import GolemJobs
@testable import Bridge

/// The journal's behaviour, the same for SQLite and PostgreSQL (``JournalKind``).
@Suite struct JournalTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    /// Appends `kind` for `jobId` with the next sequence, as the bridge does; returns the event ID.
    @discardableResult
    static func append(
        _ journal: any JobJournal, _ jobId: String, _ kind: JobEvent.Kind, state: JobState, attempt: Int = 1,
        at time: Date = t0, result: JobResult? = nil, error: JobError? = nil
    ) async throws -> String {
        let event = JobEvent(jobId: jobId, kind: kind, state: state, attempt: attempt, time: time, result: result, error: error)
        let sequence = try await journal.nextSequence(jobId: jobId)
        let id = "\(jobId)-\(sequence)"
        try await journal.append(event: event, envelope: EventCodec.encode(event, id: id, sequence: sequence, source: "t", labels: [:]), sequence: sequence)
        return id
    }

    @Test(arguments: JournalKind.allCases) func acceptTwiceIsDuplicate(_ kind: JournalKind) async throws {
        try await JournalStore.with(kind) { store in
            let journal = try await store.open()
            guard case .accepted(let record) = try await journal.accept(jobId: "a", request: [1, 2, 3], replyTo: "q", correlationId: "c", now: Self.t0)
            else { Issue.record("first accept must be accepted"); return }
            #expect(record.request == [1, 2, 3])
            #expect(record.state == .new)
            #expect(record.attempt == 0)
            #expect(record.lastEvent == nil)
            #expect(!record.ended)
            guard case .duplicate(let again) = try await journal.accept(jobId: "a", request: [9], replyTo: nil, correlationId: nil, now: Self.t0)
            else { Issue.record("second accept must be a duplicate"); return }
            #expect(again.request == [1, 2, 3])
            #expect(again.replyTo == "q")
        }
    }

    /// A cancel that came before its job is handed over with the job's acceptance (one write on SQLite);
    /// a duplicate carries none, and a job without one gets nil.
    @Test(arguments: JournalKind.allCases) func acceptingAJobReadsTheCancelThatCameFirst(_ kind: JournalKind) async throws {
        try await JournalStore.with(kind) { store in
            let journal = try await store.open()
            try await journal.rememberCancel(jobId: "early", reason: "changed my mind", now: Self.t0)
            let (first, mark) = try await journal.acceptReadingCancel(jobId: "early", request: [1], replyTo: nil, correlationId: nil, now: Self.t0)
            guard case .accepted = first else { Issue.record("a new job must be accepted"); return }
            #expect(mark?.reason == "changed my mind" && mark?.jobId == "early")
            let (again, none) = try await journal.acceptReadingCancel(jobId: "early", request: [1], replyTo: nil, correlationId: nil, now: Self.t0)
            guard case .duplicate = again else { Issue.record("the same ID again must be a duplicate"); return }
            #expect(none == nil)
            let (_, noMark) = try await journal.acceptReadingCancel(jobId: "plain", request: [1], replyTo: nil, correlationId: nil, now: Self.t0)
            #expect(noMark == nil)
        }
    }

    @Test(arguments: JournalKind.allCases) func appendMovesTheSnapshotOn(_ kind: JournalKind) async throws {
        try await JournalStore.with(kind) { store in
            let journal = try await store.open()
            #expect(try await journal.snapshot(jobId: "b") == nil)
            _ = try await journal.accept(jobId: "b", request: [], replyTo: nil, correlationId: nil, now: Self.t0)
            #expect(try await journal.snapshot(jobId: "b")?.lastEvent == nil)
            try await Self.append(journal, "b", .created, state: .new, attempt: 0)
            try await Self.append(journal, "b", .started, state: .pending, attempt: 1, at: Self.t0 + 1)
            var snapshot = try #require(try await journal.snapshot(jobId: "b"))
            #expect(snapshot.state == "pending")
            #expect(snapshot.attempt == 1)
            #expect(snapshot.lastEvent == "started")
            #expect(snapshot.updatedAt == Self.t0 + 1)
            #expect(snapshot.createdAt == Self.t0)

            let result = JobResult(steps: [StepResult(index: 0, kind: .run, exitCode: 0, stdout: "hi", stderr: "")])
            try await Self.append(journal, "b", .success, state: .done, at: Self.t0 + 2, result: result)
            try await Self.append(journal, "b", .ended, state: .done, at: Self.t0 + 3, result: result)
            snapshot = try #require(try await journal.snapshot(jobId: "b"))
            #expect(snapshot.state == "done")
            #expect(snapshot.lastEvent == "ended")
            #expect(snapshot.result == EventCodec.resultJSON(result))
            #expect(snapshot.error == nil)
            let record = try #require(try await journal.job(jobId: "b"))
            #expect(record.ended)
            #expect(record.outcome == .success)
            #expect(try await journal.unfinishedJobs().isEmpty)
            #expect(try await journal.nextSequence(jobId: "b") == 5)
        }
    }

    @Test(arguments: JournalKind.allCases) func appendRequiresAnAcceptedJob(_ kind: JournalKind) async throws {
        try await JournalStore.with(kind) { store in
            let journal = try await store.open()
            await #expect(throws: JournalError.self) { try await Self.append(journal, "ghost", .created, state: .new) }
        }
    }

    /// Appends that arrive together (SQLite commits them in one transaction) all land, and one that
    /// fails (its job was never accepted) fails alone.
    @Test(arguments: JournalKind.allCases) func concurrentAppendsLandAndAFailingOneFailsAlone(_ kind: JournalKind) async throws {
        try await JournalStore.with(kind) { store in
            let journal = try await store.open()
            let jobs = (0..<40).map { "g\($0)" }
            for job in jobs { _ = try await journal.accept(jobId: job, request: [], replyTo: nil, correlationId: nil, now: Self.t0) }
            let failures = try await withThrowingTaskGroup(of: String?.self) { group in
                for job in jobs + ["ghost-1", "ghost-2"] {
                    group.addTask {
                        do { try await Self.append(journal, job, .created, state: .new, attempt: 0) } catch is JournalError { return job }
                        return nil
                    }
                }
                var failed: [String] = []
                for try await job in group { if let job { failed.append(job) } }
                return failed.sorted()
            }
            #expect(failures == ["ghost-1", "ghost-2"])
            #expect(try await journal.unpublishedEvents().map(\.jobId).sorted() == jobs.sorted())
            for job in jobs { #expect(try await journal.snapshot(jobId: job)?.lastEvent == "created") }
        }
    }

    @Test(arguments: JournalKind.allCases) func appendingTheSameEventTwiceChangesNothing(_ kind: JournalKind) async throws {
        try await JournalStore.with(kind) { store in
            let journal = try await store.open()
            _ = try await journal.accept(jobId: "c", request: [], replyTo: nil, correlationId: nil, now: Self.t0)
            let event = JobEvent(jobId: "c", kind: .created, state: .new, attempt: 0, time: Self.t0)
            let envelope = EventCodec.encode(event, id: "same", sequence: 1, source: "t", labels: [:])
            try await journal.append(event: event, envelope: envelope, sequence: 1)
            try await journal.append(event: event, envelope: envelope, sequence: 1)
            #expect(try await journal.unpublishedEvents().count == 1)
        }
    }

    @Test(arguments: JournalKind.allCases) func unpublishedEventsSurviveACrash(_ kind: JournalKind) async throws {
        try await JournalStore.with(kind) { store in
            var journal: (any JobJournal)? = try await store.open()
            _ = try await journal!.accept(jobId: "d", request: Array("{}".utf8), replyTo: "reply-q", correlationId: "corr", now: Self.t0)
            let first = try await Self.append(journal!, "d", .created, state: .new, attempt: 0)
            try await Self.append(journal!, "d", .started, state: .pending, attempt: 1)
            try await journal!.markPublished(eventIds: [first])
            journal = nil  // the process dies; only the file remains

            let reopened = try await store.open()
            let pending = try await reopened.unpublishedEvents()
            #expect(pending.map(\.sequence) == [2])
            let stored = try #require(pending.first)
            #expect(stored.kind == .started)
            #expect(stored.jobId == "d")
            #expect(stored.replyTo == "reply-q")
            #expect(stored.correlationId == "corr")
            #expect(stored.envelope.routingKey == "job.d.started")
            #expect(stored.envelope.headers == ["job-id": "d", "job-event": "started", "job-state": "pending"])
            #expect(try EventCodec.decode(stored.envelope.body).sequence == 2)
            let unfinished = try await reopened.unfinishedJobs()
            #expect(unfinished.map(\.jobId) == ["d"])
            #expect(unfinished.first?.request == Array("{}".utf8))
            #expect(unfinished.first?.lastEvent == .started)
            #expect(unfinished.first?.hasOutcome == false)
        }
    }

    @Test(arguments: JournalKind.allCases) func unfinishedJobWithOutcomeIsFlagged(_ kind: JournalKind) async throws {
        try await JournalStore.with(kind) { store in
            let journal = try await store.open()
            _ = try await journal.accept(jobId: "e", request: [], replyTo: nil, correlationId: nil, now: Self.t0)
            try await Self.append(journal, "e", .created, state: .new, attempt: 0)
            try await Self.append(journal, "e", .error, state: .rejected, error: JobError(.timeout, "too slow"))
            let record = try #require(try await journal.unfinishedJobs().first)
            #expect(record.hasOutcome)
            #expect(record.outcome == .error)
            #expect(try await journal.snapshot(jobId: "e")?.error?["code"] == .string("timeout"))
        }
    }

    @Test(arguments: JournalKind.allCases) func cancelMarks(_ kind: JournalKind) async throws {
        try await JournalStore.with(kind) { store in
            let journal = try await store.open()
            #expect(try await journal.cancelMark(jobId: "f") == nil)
            try await journal.rememberCancel(jobId: "f", reason: "changed my mind", now: Self.t0)
            try await journal.rememberCancel(jobId: "f", reason: "again", now: Self.t0 + 5)
            let mark = try #require(try await journal.cancelMark(jobId: "f"))
            #expect(mark.reason == "changed my mind")
            #expect(mark.requestedAt == Self.t0)
            try await journal.rememberCancel(jobId: "g", reason: nil, now: Self.t0)
            #expect(try await journal.cancelMark(jobId: "g")?.reason == nil)
        }
    }

    @Test(arguments: JournalKind.allCases) func pruneDeletesOnlyOldFinishedPublishedJobs(_ kind: JournalKind) async throws {
        try await JournalStore.with(kind) { store in
            let journal = try await store.open()
            // old, ended, all published: pruned
            _ = try await journal.accept(jobId: "old", request: [], replyTo: nil, correlationId: nil, now: Self.t0)
            for id in [try await Self.append(journal, "old", .created, state: .new, attempt: 0),
                       try await Self.append(journal, "old", .canceled, state: .rejected, error: JobError(.canceled, "canceled")),
                       try await Self.append(journal, "old", .ended, state: .rejected)] {
                try await journal.markPublished(eventIds: [id])
            }
            // old, ended, one event unconfirmed: kept
            _ = try await journal.accept(jobId: "unsent", request: [], replyTo: nil, correlationId: nil, now: Self.t0)
            try await Self.append(journal, "unsent", .ended, state: .done)
            // old, still running: kept
            _ = try await journal.accept(jobId: "running", request: [], replyTo: nil, correlationId: nil, now: Self.t0)
            try await journal.markPublished(eventIds: [try await Self.append(journal, "running", .created, state: .new, attempt: 0)])
            // ended after the cutoff: kept
            _ = try await journal.accept(jobId: "recent", request: [], replyTo: nil, correlationId: nil, now: Self.t0)
            try await journal.markPublished(eventIds: [try await Self.append(journal, "recent", .ended, state: .done, at: Self.t0 + 100)])
            // cancel marks: an old one for a job that never came, an old one for a running job, a new one
            try await journal.rememberCancel(jobId: "never", reason: nil, now: Self.t0)
            try await journal.rememberCancel(jobId: "running", reason: nil, now: Self.t0)
            try await journal.rememberCancel(jobId: "later", reason: nil, now: Self.t0 + 100)

            #expect(try await journal.prune(finishedBefore: Self.t0 + 50) == 1)
            #expect(try await journal.snapshot(jobId: "old") == nil)
            #expect(try await journal.nextSequence(jobId: "old") == 1)  // its events went with it
            #expect(try await journal.snapshot(jobId: "unsent") != nil)
            #expect(try await journal.snapshot(jobId: "running") != nil)
            #expect(try await journal.snapshot(jobId: "recent") != nil)
            #expect(try await journal.cancelMark(jobId: "never") == nil)
            #expect(try await journal.cancelMark(jobId: "running") != nil)
            #expect(try await journal.cancelMark(jobId: "later") != nil)
            // A pruned ID can be accepted again.
            guard case .accepted = try await journal.accept(jobId: "old", request: [], replyTo: nil, correlationId: nil, now: Self.t0 + 60)
            else { Issue.record("pruned job must be accepted again"); return }
        }
    }

    @Test(arguments: JournalKind.allCases) func twoInstancesOnOneStoreSeeEachOther(_ kind: JournalKind) async throws {
        try await JournalStore.with(kind) { store in
            let one = try await store.open()
            let two = try await store.open()
            _ = try await one.accept(jobId: "shared", request: [], replyTo: nil, correlationId: nil, now: Self.t0)
            guard case .duplicate = try await two.accept(jobId: "shared", request: [], replyTo: nil, correlationId: nil, now: Self.t0)
            else { Issue.record("the second instance must see the first one's job"); return }
            try await two.rememberCancel(jobId: "shared", reason: "stop", now: Self.t0)
            #expect(try await one.cancelMark(jobId: "shared")?.reason == "stop")

            // Concurrent writers on both instances: every accept lands exactly once, none fails busy.
            try await withThrowingTaskGroup(of: Int.self) { group in
                for worker in 0..<4 {
                    group.addTask {
                        let journal = try await store.open()
                        var accepted = 0
                        for i in 0..<50 {
                            if case .accepted = try await journal.accept(jobId: "job-\(i)", request: [UInt8(worker)], replyTo: nil, correlationId: nil, now: Self.t0) {
                                accepted += 1
                            }
                        }
                        return accepted
                    }
                }
                var total = 0
                for try await n in group { total += n }
                #expect(total == 50)
            }
            #expect(try await one.unfinishedJobs().count == 51)
        }
    }
}

extension JournalTests {
    @Test(arguments: JournalKind.allCases) func suspensionsAreCountedPerUnfinishedJob(_ kind: JournalKind) async throws {
        try await JournalStore.with(kind) { store in
            let journal = try await store.open()
            _ = try await journal.accept(jobId: "s", request: [], replyTo: nil, correlationId: nil, now: Self.t0)
            try await journal.markSuspended(jobIds: ["s", "unknown"])
            try await journal.markSuspended(jobIds: ["s"])
            #expect(try await journal.job(jobId: "s")?.suspensions == 2)
            #expect(try await journal.unfinishedJobs().first?.suspensions == 2)
        }
    }
}
