import Foundation
import GolemJobs

/// The journal operations the bridge's runtime uses: ``Journal`` (SQLite, one bridge or one host) and
/// ``PostgresJournal`` (N bridges on any hosts) behind one protocol, and a failing journal in unit tests.
protocol JobJournal: Sendable {
    func accept(jobId: String, request: [UInt8], replyTo: String?, correlationId: String?, now: Date) async throws -> Journal.Acceptance
    /// `accept`, and for a new job the cancel that came before it.
    func acceptReadingCancel(jobId: String, request: [UInt8], replyTo: String?, correlationId: String?, now: Date) async throws
        -> (acceptance: Journal.Acceptance, cancel: CancelMark?)
    func job(jobId: String) async throws -> JobRecord?
    func unfinishedJobs() async throws -> [JobRecord]
    func snapshot(jobId: String) async throws -> JobSnapshot?
    func nextSequence(jobId: String) async throws -> Int
    func append(event: JobEvent, envelope: EventEnvelope, sequence: Int) async throws
    /// Journals several events of one job in this order; all or none (appending is idempotent, so a
    /// caller retries the whole batch).
    func append(events: [(event: JobEvent, envelope: EventEnvelope, sequence: Int)]) async throws
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

    // Sharing jobs between bridges (the defaults: a journal only this bridge resumes from).

    /// Whether other bridges share the jobs: then each job has an owner and a lease, the runtime
    /// renews its leases every ``heartbeat`` and takes over expired ones.
    var isShared: Bool { get }
    /// How often the runtime renews its leases and looks for expired ones.
    var heartbeat: Duration { get }
    /// The unfinished jobs this bridge is to resume now, as its own (see ``PostgresJournal``).
    func claimUnfinished(includingOwn: Bool) async throws -> [JobRecord]
    func renewLeases() async throws -> LeaseRenewal
    func releaseLeases() async throws
    /// Runs what the journal needs while the bridge runs (a connection pool), until cancelled.
    func run() async
    /// Called once ``run()`` runs, before the bridge takes work (PostgreSQL: create the tables).
    func prepare() async throws
}

extension JobJournal {
    /// Two calls; ``Journal`` makes them one write.
    func acceptReadingCancel(jobId: String, request: [UInt8], replyTo: String?, correlationId: String?, now: Date) async throws
        -> (acceptance: Journal.Acceptance, cancel: CancelMark?)
    {
        let acceptance = try await accept(jobId: jobId, request: request, replyTo: replyTo, correlationId: correlationId, now: now)
        guard case .accepted = acceptance else { return (acceptance, nil) }
        return (acceptance, try? await cancelMark(jobId: jobId))
    }

    /// One append after another: a failure leaves the earlier ones journaled, which a retry of the
    /// whole batch does not double.
    func append(events: [(event: JobEvent, envelope: EventEnvelope, sequence: Int)]) async throws {
        for item in events { try await append(event: item.event, envelope: item.envelope, sequence: item.sequence) }
    }

    var isShared: Bool { false }
    var heartbeat: Duration { .seconds(3600) }
    /// Every unfinished job: one bridge owns them all.
    func claimUnfinished(includingOwn: Bool) async throws -> [JobRecord] { try await unfinishedJobs() }
    func renewLeases() async throws -> LeaseRenewal { LeaseRenewal(owned: [], cancels: []) }
    func releaseLeases() async throws {}
    func run() async {}
    func prepare() async throws {}
}

extension Journal: JobJournal {}

extension PostgresJournal: JobJournal {
    var isShared: Bool { true }
    /// A third of the lease: two heartbeats may fail before another bridge can take the jobs.
    var heartbeat: Duration { lease / 3 }
    func prepare() async throws { try await migrate() }
}
