import Foundation
import GolemJobs
import Synchronization
@testable import Bridge

/// A ``Journal`` whose writes of new requests fail while `failing` is set, as when the disk is full.
final class FailingJournal: JobJournal {
    let journal: Journal
    private let state = Mutex(true)

    init(_ journal: Journal) { self.journal = journal }

    var failing: Bool {
        get { state.withLock { $0 } }
        set { state.withLock { $0 = newValue } }
    }

    private func check() throws {
        if failing { throw JournalError("test: the disk is full") }
    }

    func accept(jobId: String, request: [UInt8], replyTo: String?, correlationId: String?, now: Date) async throws -> Journal.Acceptance {
        try check()
        return try await journal.accept(jobId: jobId, request: request, replyTo: replyTo, correlationId: correlationId, now: now)
    }

    func recordRejection(
        _ rejection: String, jobId: String, replyTo: String?, correlationId: String?,
        events: [(event: JobEvent, envelope: EventEnvelope, sequence: Int)], now: Date
    ) async throws -> [StoredEvent] {
        try check()
        return try await journal.recordRejection(rejection, jobId: jobId, replyTo: replyTo, correlationId: correlationId, events: events, now: now)
    }

    func job(jobId: String) async throws -> JobRecord? { try await journal.job(jobId: jobId) }
    func unfinishedJobs() async throws -> [JobRecord] { try await journal.unfinishedJobs() }
    func snapshot(jobId: String) async throws -> JobSnapshot? { try await journal.snapshot(jobId: jobId) }
    func nextSequence(jobId: String) async throws -> Int { try await journal.nextSequence(jobId: jobId) }
    func append(event: JobEvent, envelope: EventEnvelope, sequence: Int) async throws {
        try await journal.append(event: event, envelope: envelope, sequence: sequence)
    }
    func markSuspended(jobIds: [String]) async throws { try await journal.markSuspended(jobIds: jobIds) }
    func markPublished(eventIds: [String]) async throws { try await journal.markPublished(eventIds: eventIds) }
    func unpublishedEvents() async throws -> [StoredEvent] { try await journal.unpublishedEvents() }
    func rememberCancel(jobId: String, reason: String?, now: Date) async throws {
        try await journal.rememberCancel(jobId: jobId, reason: reason, now: now)
    }
    func cancelMark(jobId: String) async throws -> CancelMark? { try await journal.cancelMark(jobId: jobId) }
    func prune(finishedBefore: Date) async throws -> Int { try await journal.prune(finishedBefore: finishedBefore) }
}

/// A clock whose sleeps end at once: for paths that pause (after a journal failure) in a test.
struct ImmediateClock: Clock {
    var now: ContinuousClock.Instant { .now }
    var minimumResolution: Duration { .zero }
    func sleep(until deadline: ContinuousClock.Instant, tolerance: Duration?) async throws {
        try Task.checkCancellation()
    }
}
