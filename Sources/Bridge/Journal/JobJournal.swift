import Foundation
import GolemJobs

/// The journal operations the bridge's runtime uses; ``Journal`` (SQLite) is the one the service uses.
/// A protocol so unit tests can put a failing journal in its place.
protocol JobJournal: Sendable {
    func accept(jobId: String, request: [UInt8], replyTo: String?, correlationId: String?, now: Date) async throws -> Journal.Acceptance
    func unfinishedJobs() async throws -> [JobRecord]
    func snapshot(jobId: String) async throws -> JobSnapshot?
    func nextSequence(jobId: String) async throws -> Int
    func append(event: JobEvent, envelope: EventEnvelope, sequence: Int) async throws
    func markSuspended(jobIds: [String]) async throws
    func markPublished(eventIds: [String]) async throws
    func unpublishedEvents() async throws -> [StoredEvent]
    func recordRejection(
        _ rejection: String, jobId: String, replyTo: String?, correlationId: String?,
        events: [(event: JobEvent, envelope: EventEnvelope, sequence: Int)], now: Date
    ) async throws -> [StoredEvent]
    func rememberCancel(jobId: String, reason: String?, now: Date) async throws
    func cancelMark(jobId: String) async throws -> CancelMark?
    func prune(finishedBefore: Date) async throws -> Int
}

extension Journal: JobJournal {}
