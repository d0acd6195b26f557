import Foundation
import GRDB
import GolemJobs
import JSONModel
import Synchronization

/// The bridge's durable memory: accepted jobs, their events until the broker confirmed them, the
/// events of rejected requests, and cancel requests. One SQLite file in WAL mode.
///
/// Every method is `async`: reads and writes run on GRDB's own queues, never blocking Swift's
/// cooperative pool. The database runs in WAL mode with `synchronous = NORMAL`: a commit survives
/// a crash or kill of the bridge process (what the contract's guarantee is about); only a power loss
/// may lose the last commits, the trade-off SQLite recommends for WAL.
/// Writes use `BEGIN IMMEDIATE` and a busy timeout, so two bridge processes can share one file:
/// each waits for the other's write instead of failing.
/// The statements a job's path runs (accept, append, the published marks, the cancel-mark lookup) are
/// prepared once per connection (GRDB's `cachedStatement`) and each event is one insert and one update:
/// parsing the SQL each time was a measurable part of the bridge's CPU per job (BENCHMARKS.md).
public final class Journal: Sendable {
    let pool: DatabasePool
    /// Appends waiting for the next group commit (Journal+GroupCommit.swift).
    let group = Mutex(WriteGroup())

    /// Opens (creating and migrating as needed) the journal at `path`.
    /// - Parameter busyTimeout: how long a write waits for another connection's lock.
    public init(path: String, busyTimeout: TimeInterval = 10) throws {
        var config = Configuration()
        config.busyMode = .timeout(busyTimeout)
        config.foreignKeysEnabled = true
        config.label = "golem-bridge.journal"
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        do {
            pool = try DatabasePool(path: path, configuration: config)
            try Self.migrator.migrate(pool)
        } catch {
            throw JournalError("cannot open the journal \(path): \(error)")
        }
    }

    // MARK: Jobs

    public enum Acceptance: Sendable, Hashable {
        /// The job is new and now journaled.
        case accepted(JobRecord)
        /// The job ID was already known; nothing changed. Carries the known job.
        case duplicate(JobRecord)
    }

    /// Journals a job before it runs, once: a known `jobId` is a duplicate and nothing changes.
    public func accept(
        jobId: String, request: [UInt8], replyTo: String?, correlationId: String?, now: Date
    ) async throws -> Acceptance {
        try await acceptReadingCancel(jobId: jobId, request: request, replyTo: replyTo, correlationId: correlationId, now: now).acceptance
    }

    /// ``accept(jobId:request:replyTo:correlationId:now:)`` and, for a new job, the cancel that came
    /// before it (``cancelMark(jobId:)``), read in the same write: one trip to the database per job.
    public func acceptReadingCancel(
        jobId: String, request: [UInt8], replyTo: String?, correlationId: String?, now: Date
    ) async throws -> (acceptance: Acceptance, cancel: CancelMark?) {
        try await writeImmediate { db in
            // One statement for a new job: the insert tells by its change count whether the ID was known.
            try db.cachedStatement(
                sql: """
                    INSERT INTO job (jobId, request, replyTo, correlationId, state, attempt, createdAt, updatedAt, ended)
                    VALUES (?, ?, ?, ?, ?, 0, ?, ?, 0) ON CONFLICT (jobId) DO NOTHING
                    """
            ).execute(
                arguments: [jobId, Data(request), replyTo, correlationId, JobState.new.rawValue,
                            now.timeIntervalSince1970, now.timeIntervalSince1970])
            if db.changesCount == 0 {
                guard let existing = try Self.fetchJob(db, jobId) else { throw JournalError("job \(jobId) vanished") }
                return (.duplicate(existing), nil)
            }
            // What the row now holds (a REAL column gives back the same Double).
            let record = JobRecord(
                jobId: jobId, request: request, replyTo: replyTo, correlationId: correlationId, state: .new, attempt: 0,
                createdAt: Date(timeIntervalSince1970: now.timeIntervalSince1970),
                updatedAt: Date(timeIntervalSince1970: now.timeIntervalSince1970),
                lastEvent: nil, ended: false, outcome: nil, suspensions: 0)
            return (.accepted(record), try Self.fetchCancelMark(db, jobId))
        }
    }

    /// The journaled job, if any.
    public func job(jobId: String) async throws -> JobRecord? {
        try await pool.read { db in try Self.fetchJob(db, jobId) }
    }

    /// Jobs accepted and not yet `ended`, oldest first: what to resume after a restart.
    public func unfinishedJobs() async throws -> [JobRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM job WHERE ended = 0 ORDER BY createdAt, jobId").map(Self.record)
        }
    }

    /// The status-request reply for `jobId`, or `nil` when it was never accepted (or was pruned).
    public func snapshot(jobId: String) async throws -> JobSnapshot? {
        try await pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM job WHERE jobId = ?", arguments: [jobId]) else {
                return nil
            }
            let result: Data? = row["result"]
            let error: Data? = row["error"]
            return JobSnapshot(
                jobId: row["jobId"], state: row["state"], attempt: row["attempt"],
                createdAt: Date(timeIntervalSince1970: row["createdAt"]),
                updatedAt: Date(timeIntervalSince1970: row["updatedAt"]),
                lastEvent: row["lastEvent"],
                result: result.flatMap { try? JSONValue.parse(Array($0), maxDepth: 256) },
                error: error.flatMap { try? JSONValue.parse(Array($0), maxDepth: 256) })
        }
    }

    // MARK: Events

    /// The sequence number for the job's next event: 1 for the first.
    public func nextSequence(jobId: String) async throws -> Int {
        try await pool.read { db in
            let last = try Int.fetchOne(db, sql: "SELECT MAX(sequence) FROM event WHERE jobId = ?", arguments: [jobId])
            return (last ?? 0) + 1
        }
    }

    /// Journals an encoded event as unpublished and moves the job's row on (state, attempt,
    /// `updatedAt`, last event, outcome, result or error, ended), in one transaction.
    /// Appending the same event `id` again changes nothing. The job must have been accepted.
    public func append(event: JobEvent, envelope: EventEnvelope, sequence: Int) async throws {
        let write = Self.appendWrite(event: event, envelope: envelope, sequence: sequence)
        try await writeGrouped { db in try write(db) }
    }

    /// Journals several events of one job, in order, in one write of the next group commit (one
    /// savepoint: all or none).
    public func append(events: [(event: JobEvent, envelope: EventEnvelope, sequence: Int)]) async throws {
        let writes = events.map { Self.appendWrite(event: $0.event, envelope: $0.envelope, sequence: $0.sequence) }
        try await writeGrouped { db in for write in writes { try write(db) } }
    }

    /// What ``append(event:envelope:sequence:)`` does in the database; the encoding is done here, off
    /// the writer's queue.
    private static func appendWrite(event: JobEvent, envelope: EventEnvelope, sequence: Int) -> @Sendable (Database) throws -> Void {
        let result = event.result.map { Data(EventCodec.resultJSON($0).encoded()) }
        let error = event.error.map { Data(EventCodec.errorJSON($0).encoded()) }
        let headers = Data(Self.headersJSON(envelope.headers))
        return { db in
            guard try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM job WHERE jobId = ?"), arguments: [event.jobId]) != nil
            else {
                throw JournalError("cannot journal an event of job \(event.jobId): the job was never accepted")
            }
            // A known event id inserts nothing and so changes nothing.
            try db.cachedStatement(
                sql: """
                    INSERT INTO event (eventId, jobId, sequence, kind, routingKey, body, headers, contentType, published)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0) ON CONFLICT (eventId) DO NOTHING
                    """
            ).execute(
                arguments: [envelope.id, event.jobId, sequence, event.kind.rawValue, envelope.routingKey,
                            Data(envelope.body), headers, envelope.contentType])
            guard db.changesCount > 0 else { return }
            // One update moves the row on: the first outcome sticks, a result or error replaces the
            // stored one only when the event carries one, `ended` sets `endedAt`.
            let time = event.time.timeIntervalSince1970
            let isEnded = event.kind == .ended
            try db.cachedStatement(
                sql: """
                    UPDATE job SET state = ?, attempt = ?, updatedAt = ?, lastEvent = ?,
                        outcome = CASE WHEN ? AND outcome IS NULL THEN ? ELSE outcome END,
                        result = COALESCE(?, result), error = COALESCE(?, error),
                        ended = CASE WHEN ? THEN 1 ELSE ended END, endedAt = CASE WHEN ? THEN ? ELSE endedAt END
                    WHERE jobId = ?
                    """
            ).execute(
                arguments: [event.state.rawValue, event.attempt, time, event.kind.rawValue,
                            event.kind.isTerminalOutcome, event.kind.rawValue,
                            result, error,
                            isEnded, isEnded, time,
                            event.jobId])
        }
    }

    /// Records that a graceful shutdown stopped these jobs' running attempts: a restart the operator
    /// asked for is not the job's failure, so resuming them does not use up one of their attempts.
    public func markSuspended(jobIds: [String]) async throws {
        guard !jobIds.isEmpty else { return }
        try await writeImmediate { db in
            for jobId in jobIds {
                try db.execute(
                    sql: "UPDATE job SET suspensions = suspensions + 1 WHERE jobId = ? AND ended = 0", arguments: [jobId])
            }
        }
    }

    /// Records that the broker confirmed these events, in one transaction.
    public func markPublished(eventIds: [String]) async throws {
        guard !eventIds.isEmpty else { return }
        try await writeImmediate { db in
            let statement = try db.cachedStatement(sql: "UPDATE event SET published = 1 WHERE eventId = ?")
            let rejected = try db.cachedStatement(sql: "UPDATE rejectedEvent SET published = 1 WHERE eventId = ?")
            for id in eventIds {
                try statement.execute(arguments: [id])
                if db.changesCount == 0 { try rejected.execute(arguments: [id]) }
            }
        }
    }

    /// Records that the broker confirmed the event; it is not sent again.
    public func markPublished(eventId: String) async throws {
        try await writeImmediate { db in
            try db.cachedStatement(sql: "UPDATE event SET published = 1 WHERE eventId = ?").execute(arguments: [eventId])
        }
    }

    /// Events not yet confirmed by the broker, by job and then sequence, rejected requests' included:
    /// publish them again after a restart (their CloudEvent `id` is unchanged, so consumers drop
    /// duplicates).
    public func unpublishedEvents() async throws -> [StoredEvent] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT e.eventId, e.jobId, e.sequence, e.kind, e.routingKey, e.body, e.headers, e.contentType,
                           j.replyTo, j.correlationId
                    FROM event e JOIN job j ON j.jobId = e.jobId WHERE e.published = 0
                    UNION ALL
                    SELECT eventId, jobId, sequence, kind, routingKey, body, headers, contentType, replyTo, correlationId
                    FROM rejectedEvent WHERE published = 0
                    ORDER BY jobId, sequence
                    """
            ).map(Self.storedEvent)
        }
    }

    // MARK: Rejected requests

    /// Journals the events that tell a rejected request's subscribers (`error`, `ended`), once per
    /// `rejection` (one delivered request: its job ID and body). Returns them all: the ones just
    /// written, or the stored ones (same ids, same bytes) when the same request came before, published
    /// or not, so that a repeat tells a subscriber who missed the first time (a client that resends
    /// and waits on a new `reply_to`) and consumers drop the duplicate by its id. Returns none when
    /// `jobId` belongs to an accepted job, whose stream never
    /// gets a second outcome. Rejections are not jobs: a status request still finds the ID unknown,
    /// and a later valid request with it is accepted.
    public func recordRejection(
        _ rejection: String, jobId: String, replyTo: String?, correlationId: String?,
        events: [(event: JobEvent, envelope: EventEnvelope, sequence: Int)], now: Date
    ) async throws -> [StoredEvent] {
        try await writeImmediate { db in
            if try Self.fetchJob(db, jobId) != nil { return [] }
            let known = try Bool.fetchOne(db, sql: "SELECT 1 FROM rejectedEvent WHERE rejection = ?", arguments: [rejection]) ?? false
            if !known {
                for (event, envelope, sequence) in events {
                    try db.execute(
                        sql: """
                            INSERT INTO rejectedEvent (eventId, rejection, jobId, sequence, kind, routingKey, body, headers,
                                                       contentType, replyTo, correlationId, createdAt, published)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)
                            """,
                        arguments: [envelope.id, rejection, jobId, sequence, event.kind.rawValue, envelope.routingKey,
                                    Data(envelope.body), Data(Self.headersJSON(envelope.headers)), envelope.contentType,
                                    replyTo, correlationId, now.timeIntervalSince1970])
                }
            }
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT eventId, jobId, sequence, kind, routingKey, body, headers, contentType, replyTo, correlationId
                    FROM rejectedEvent WHERE rejection = ? ORDER BY sequence
                    """,
                arguments: [rejection]
            ).map(Self.storedEvent)
        }
    }

    // MARK: Cancel marks

    /// Remembers a cancel request for `jobId`, known or not yet arrived. The first one is kept;
    /// cancelling again changes nothing.
    public func rememberCancel(jobId: String, reason: String?, now: Date) async throws {
        try await writeImmediate { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO cancelMark (jobId, reason, createdAt) VALUES (?, ?, ?)",
                arguments: [jobId, reason, now.timeIntervalSince1970])
        }
    }

    /// The remembered cancel request for `jobId`, if any.
    public func cancelMark(jobId: String) async throws -> CancelMark? {
        try await pool.read { db in try Self.fetchCancelMark(db, jobId) }
    }

    private static func fetchCancelMark(_ db: Database, _ jobId: String) throws -> CancelMark? {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM cancelMark WHERE jobId = ?"), arguments: [jobId])
        else { return nil }
        return CancelMark(jobId: row["jobId"], reason: row["reason"], requestedAt: Date(timeIntervalSince1970: row["createdAt"]))
    }

    // MARK: Housekeeping

    /// Deletes jobs that ended before `finishedBefore` and whose events are all published, with
    /// their events, rejected requests' events older than that once all are published, and cancel
    /// marks older than that which no unfinished job needs.
    /// Returns the number of jobs deleted. A pruned ID is `unknown` to status requests and can be
    /// submitted again.
    @discardableResult
    public func prune(finishedBefore: Date) async throws -> Int {
        let cutoff = finishedBefore.timeIntervalSince1970
        return try await writeImmediate { db in
            try db.execute(
                sql: """
                    DELETE FROM job WHERE ended = 1 AND endedAt < ?
                    AND NOT EXISTS (SELECT 1 FROM event e WHERE e.jobId = job.jobId AND e.published = 0)
                    """,
                arguments: [cutoff])
            let jobs = db.changesCount
            try db.execute(
                sql: """
                    DELETE FROM rejectedEvent WHERE createdAt < ?
                    AND NOT EXISTS (SELECT 1 FROM rejectedEvent r WHERE r.rejection = rejectedEvent.rejection AND r.published = 0)
                    """,
                arguments: [cutoff])
            try db.execute(
                sql: """
                    DELETE FROM cancelMark WHERE createdAt < ?
                    AND NOT EXISTS (SELECT 1 FROM job j WHERE j.jobId = cancelMark.jobId AND j.ended = 0)
                    """,
                arguments: [cutoff])
            return jobs
        }
    }

    // MARK: Internals

    /// Runs on GRDB's writer queue, so a commit's fsync never blocks Swift's cooperative pool.
    private func writeImmediate<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await pool.writeWithoutTransaction { db in
            var result: T?
            try db.inTransaction(.immediate) {
                result = try body(db)
                return .commit
            }
            guard let result else { throw JournalError("transaction produced no result") }
            return result
        }
    }

    /// An event's headers as journaled (both journals): a JSON object of strings, keys sorted.
    static func headersJSON(_ headers: [String: String]) -> [UInt8] {
        JSONValue.object(headers.sorted(by: { $0.key < $1.key }).map { JSONMember($0.key, .string($0.value)) }).encoded()
    }

    /// The headers ``headersJSON(_:)`` wrote.
    static func headers(fromJSON bytes: [UInt8]) -> [String: String] {
        var headers: [String: String] = [:]
        if case .object(let members)? = try? JSONValue.parse(bytes) {
            for m in members { if let s = m.value.string { headers[m.key] = s } }
        }
        return headers
    }

    /// An event row with its job's `replyTo` and `correlationId`.
    private static func storedEvent(_ row: Row) throws -> StoredEvent {
        let headersData: Data = row["headers"]
        let headers = headers(fromJSON: Array(headersData))
        let kindName: String = row["kind"]
        guard let kind = JobEvent.Kind(rawValue: kindName) else {
            throw JournalError("the journal holds an event of unknown kind \(kindName)")
        }
        let body: Data = row["body"]
        return StoredEvent(
            envelope: EventEnvelope(
                id: row["eventId"], routingKey: row["routingKey"], body: Array(body), headers: headers,
                contentType: row["contentType"]),
            jobId: row["jobId"], sequence: row["sequence"], kind: kind,
            replyTo: row["replyTo"], correlationId: row["correlationId"])
    }

    private static func fetchJob(_ db: Database, _ jobId: String) throws -> JobRecord? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM job WHERE jobId = ?"), arguments: [jobId]).map(record)
    }

    private static func record(_ row: Row) -> JobRecord {
        let request: Data = row["request"]
        let lastEvent: String? = row["lastEvent"]
        let outcome: String? = row["outcome"]
        let state: String = row["state"]
        return JobRecord(
            jobId: row["jobId"], request: Array(request), replyTo: row["replyTo"], correlationId: row["correlationId"],
            state: JobState(rawValue: state) ?? .new, attempt: row["attempt"],
            createdAt: Date(timeIntervalSince1970: row["createdAt"]),
            updatedAt: Date(timeIntervalSince1970: row["updatedAt"]),
            lastEvent: lastEvent.flatMap(JobEvent.Kind.init(rawValue:)), ended: row["ended"],
            outcome: outcome.flatMap(JobEvent.Kind.init(rawValue:)), suspensions: row["suspensions"])
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE job (
                        jobId TEXT PRIMARY KEY NOT NULL,
                        request BLOB NOT NULL,
                        replyTo TEXT,
                        correlationId TEXT,
                        state TEXT NOT NULL,
                        attempt INTEGER NOT NULL,
                        createdAt REAL NOT NULL,
                        updatedAt REAL NOT NULL,
                        lastEvent TEXT,
                        outcome TEXT,
                        result BLOB,
                        error BLOB,
                        ended INTEGER NOT NULL DEFAULT 0,
                        endedAt REAL,
                        suspensions INTEGER NOT NULL DEFAULT 0
                    );
                    CREATE INDEX job_unfinished ON job (ended, createdAt);
                    CREATE TABLE event (
                        eventId TEXT PRIMARY KEY NOT NULL,
                        jobId TEXT NOT NULL REFERENCES job (jobId) ON DELETE CASCADE,
                        sequence INTEGER NOT NULL,
                        kind TEXT NOT NULL,
                        routingKey TEXT NOT NULL,
                        body BLOB NOT NULL,
                        headers BLOB NOT NULL,
                        contentType TEXT NOT NULL,
                        published INTEGER NOT NULL DEFAULT 0,
                        UNIQUE (jobId, sequence)
                    );
                    CREATE INDEX event_unpublished ON event (jobId, sequence) WHERE published = 0;
                    CREATE TABLE cancelMark (
                        jobId TEXT PRIMARY KEY NOT NULL,
                        reason TEXT,
                        createdAt REAL NOT NULL
                    );
                    """)
        }
        // A rejected request is not a job: its events live beside the jobs', keyed by the request.
        // The columns repeat `event`'s on purpose: `event` rows need a `job` row (foreign key), and a
        // `job` row would make the ID known to status requests and refuse a later valid request.
        migrator.registerMigration("v2-rejections") { db in
            try db.execute(
                sql: """
                    CREATE TABLE rejectedEvent (
                        eventId TEXT PRIMARY KEY NOT NULL,
                        rejection TEXT NOT NULL,
                        jobId TEXT NOT NULL,
                        sequence INTEGER NOT NULL,
                        kind TEXT NOT NULL,
                        routingKey TEXT NOT NULL,
                        body BLOB NOT NULL,
                        headers BLOB NOT NULL,
                        contentType TEXT NOT NULL,
                        replyTo TEXT,
                        correlationId TEXT,
                        createdAt REAL NOT NULL,
                        published INTEGER NOT NULL DEFAULT 0
                    );
                    CREATE INDEX rejectedEvent_rejection ON rejectedEvent (rejection);
                    """)
        }
        return migrator
    }
}
