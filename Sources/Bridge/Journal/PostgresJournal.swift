import Foundation
import GolemJobs
import JSONModel
import Logging
import PostgresNIO
import Resilience
import Synchronization

/// The journal N bridges share: the same tables and guarantees as ``Journal`` (SQLite), on one
/// PostgreSQL database, plus an owner and a lease per unfinished job.
///
/// - A job ID is accepted once across all bridges: `INSERT … ON CONFLICT DO NOTHING`, so the second
///   bridge to get an ID sees the existing job, as a repeat on one bridge does.
/// - The bridge that accepts (or takes over) a job owns it until it ends; its lease is renewed by
///   ``renewLeases()`` (the runtime's heartbeat). Another bridge takes over a job whose lease expired
///   (``claimUnfinished(includingOwn:)``: one atomic `UPDATE … WHERE lease_expires < now()`) and
///   resumes it as a restarted bridge would. Lease times are the database's clock (`now()`), so
///   bridges on hosts whose clocks differ agree on them.
/// - Only the owner journals a job's events (``append(event:envelope:sequence:)`` checks the owner in
///   the same transaction): a bridge that lost its lease (a long pause, a network split) cannot add a
///   second outcome, so each job keeps one terminal event and one `ended`.
///
/// postgres-nio is async NIO: nothing here blocks Swift's cooperative pool. Every operation gives up
/// after ``operationTimeout`` (the pool would otherwise wait for a database that is down), so the
/// bridge learns at once that it cannot journal and stops taking work.
public final class PostgresJournal: Sendable {
    /// This bridge's name: the owner of the jobs it accepts or takes over.
    public let owner: String
    /// How long a job stays this bridge's without a heartbeat.
    public let lease: Duration
    public let operationTimeout: Duration
    private let client: PostgresClient
    private let schema: String
    private let settings: PostgresURL
    private let logger: Logger

    /// - Parameters:
    ///   - url: `postgres://user:password@host:port/database`, with optional query items
    ///     `sslmode=disable|prefer|require` (default `prefer`), `schema=<name>` (default `public`;
    ///     bridges that share jobs use the same one) and `lease=<seconds>` (default 30).
    ///   - owner: this bridge's instance name, unique among the bridges sharing the database.
    public init(url: String, owner: String, operationTimeout: Duration = .seconds(5), logger: Logger) throws {
        let settings = try PostgresURL(url)
        self.owner = owner
        self.lease = settings.lease
        self.operationTimeout = operationTimeout
        self.schema = settings.schema
        self.logger = logger
        self.settings = settings
        var configuration = settings.clientConfiguration
        configuration.options.additionalStartupParameters = [("search_path", settings.schema)]
        configuration.options.connectTimeout = operationTimeout
        configuration.options.maximumConnections = 16
        // The pool's own chatter (each failed reconnect while the database is down, a lease asked for
        // a moment before `run()` began) stays out; the journal logs what failed, and why, itself.
        var poolLogger = logger
        poolLogger.logLevel = .error
        client = PostgresClient(configuration: configuration, backgroundLogger: poolLogger)
    }

    /// Runs the connection pool until the task is cancelled. Detached from graceful shutdown on
    /// purpose: postgres-nio's client stops at the first SIGTERM, and the bridge still journals while
    /// it drains.
    public func run() async {
        let client = self.client
        let pool = Task.detached { await client.run() }
        await withTaskCancellationHandler { await pool.value } onCancel: { pool.cancel() }
    }

    /// Creates the schema and tables if missing; bridges starting together take turns (an advisory
    /// lock), so each finds them complete.
    /// Connects once (so a wrong password or database is told as such, not as a timeout of the pool,
    /// which keeps retrying), then creates the tables.
    public func migrate() async throws {
        let settings = self.settings
        let logger = self.logger
        try await timed {
            do {
                let connection = try await PostgresConnection.connect(
                    configuration: try settings.connectionConfiguration(), id: 0, logger: logger)
                try await connection.close()
            } catch {
                throw JournalError("cannot connect to the PostgreSQL journal \(settings.redacted): \(Self.describe(error))")
            }
        }
        try await timed { try await self.createTables() }
    }

    private func createTables() async throws {
        try await transaction { connection, logger in
            try await connection.query("SELECT pg_advisory_xact_lock(7242014)", logger: logger)
            // Once they exist, no DDL: `CREATE INDEX IF NOT EXISTS` locks its table (SHARE) before it
            // looks, and a bridge starting beside running ones deadlocked with their writes and exited
            // (tests/e2e/test_cluster.py, 2026-12-03).
            let names = Self.tableAndIndexNames
            let present = try await connection.query(
                "SELECT count(*)::bigint FROM unnest(\(names)::text[]) AS name WHERE to_regclass(name) IS NOT NULL",
                logger: logger
            ).collect().first?.decode(Int.self) ?? 0
            if present == names.count { return }
            try await connection.query("CREATE SCHEMA IF NOT EXISTS \(unescaped: Self.identifier(self.schema))", logger: logger)
            for statement in Self.tables {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
        }
    }

    // MARK: Jobs

    public func accept(
        jobId: String, request: [UInt8], replyTo: String?, correlationId: String?, now: Date
    ) async throws -> Journal.Acceptance {
        try await timed {
            let time = now.timeIntervalSince1970
            let inserted = try await self.client.query(
                """
                INSERT INTO job (job_id, request, reply_to, correlation_id, state, attempt, created_at, updated_at,
                                 ended, suspensions, owner, lease_expires)
                VALUES (\(jobId), \(Data(request)), \(replyTo), \(correlationId), \(JobState.new.rawValue), 0, \(time),
                        \(time), false, 0, \(self.owner), now() + \(self.lease.seconds) * interval '1 second')
                ON CONFLICT (job_id) DO NOTHING
                RETURNING *
                """, logger: self.logger
            ).collect()
            if let row = inserted.first { return .accepted(try Self.record(row)) }
            guard let existing = try await self.fetchJob(jobId) else {
                throw JournalError("job \(jobId) was pruned while it was accepted again; the request is retried")
            }
            return .duplicate(existing)
        }
    }

    public func job(jobId: String) async throws -> JobRecord? {
        try await timed { try await self.fetchJob(jobId) }
    }

    public func unfinishedJobs() async throws -> [JobRecord] {
        try await timed {
            try await self.client.query("SELECT * FROM job WHERE NOT ended ORDER BY created_at, job_id", logger: self.logger)
                .collect().map(Self.record)
        }
    }

    public func snapshot(jobId: String) async throws -> JobSnapshot? {
        try await timed {
            guard let row = try await self.client.query("SELECT * FROM job WHERE job_id = \(jobId)", logger: self.logger)
                .collect().first?.makeRandomAccess()
            else { return nil }
            let result = try row["result"].decode(Data?.self)
            let error = try row["error"].decode(Data?.self)
            return JobSnapshot(
                jobId: try row["job_id"].decode(String.self), state: try row["state"].decode(String.self),
                attempt: try row["attempt"].decode(Int.self),
                createdAt: Date(timeIntervalSince1970: try row["created_at"].decode(Double.self)),
                updatedAt: Date(timeIntervalSince1970: try row["updated_at"].decode(Double.self)),
                lastEvent: try row["last_event"].decode(String?.self),
                result: result.flatMap { try? JSONValue.parse(Array($0), maxDepth: 256) },
                error: error.flatMap { try? JSONValue.parse(Array($0), maxDepth: 256) })
        }
    }

    // MARK: Events

    public func nextSequence(jobId: String) async throws -> Int {
        try await timed {
            let rows = try await self.client.query(
                "SELECT COALESCE(MAX(sequence), 0) + 1 FROM event WHERE job_id = \(jobId)", logger: self.logger
            ).collect()
            return try rows.first?.decode(Int.self) ?? 1
        }
    }

    /// As ``Journal/append(event:envelope:sequence:)``, and only by the job's owner: throws
    /// ``LeaseLost`` (nothing written) when another bridge took the job over.
    public func append(event: JobEvent, envelope: EventEnvelope, sequence: Int) async throws {
        let headers = Data(Journal.headersJSON(envelope.headers))
        let result = event.result.map { Data(EventCodec.resultJSON($0).encoded()) }
        let error = event.error.map { Data(EventCodec.errorJSON($0).encoded()) }
        let outcome = event.kind.isTerminalOutcome ? event.kind.rawValue : nil
        let isEnded = event.kind == .ended
        let time = event.time.timeIntervalSince1970
        try await timed {
            try await self.transaction { connection, logger in
                let owners = try await connection.query(
                    "SELECT owner FROM job WHERE job_id = \(event.jobId) FOR UPDATE", logger: logger
                ).collect()
                guard let row = owners.first else {
                    throw JournalError("cannot journal an event of job \(event.jobId): the job was never accepted")
                }
                let owner = try row.decode(String?.self)
                let known = try await connection.query(
                    "SELECT 1 FROM event WHERE event_id = \(envelope.id)", logger: logger
                ).collect()
                if !known.isEmpty { return }
                guard owner == self.owner else { throw LeaseLost(jobId: event.jobId, owner: owner) }
                try await connection.query(
                    """
                    INSERT INTO event (event_id, job_id, sequence, kind, routing_key, body, headers, content_type, published)
                    VALUES (\(envelope.id), \(event.jobId), \(sequence), \(event.kind.rawValue), \(envelope.routingKey),
                            \(Data(envelope.body)), \(headers), \(envelope.contentType), false)
                    """, logger: logger)
                try await connection.query(
                    """
                    UPDATE job SET state = \(event.state.rawValue), attempt = \(event.attempt), updated_at = \(time),
                        last_event = \(event.kind.rawValue),
                        outcome = COALESCE(outcome, \(outcome)),
                        result = COALESCE(\(result), result),
                        error = COALESCE(\(error), error),
                        ended = ended OR \(isEnded),
                        ended_at = CASE WHEN \(isEnded) THEN \(time) ELSE ended_at END
                    WHERE job_id = \(event.jobId)
                    """, logger: logger)
            }
        }
    }

    public func markSuspended(jobIds: [String]) async throws {
        guard !jobIds.isEmpty else { return }
        try await timed {
            try await self.execute("UPDATE job SET suspensions = suspensions + 1 WHERE job_id = ANY(\(jobIds)) AND NOT ended")
        }
    }

    public func markPublished(eventIds: [String]) async throws {
        guard !eventIds.isEmpty else { return }
        try await timed {
            try await self.execute("UPDATE event SET published = true WHERE event_id = ANY(\(eventIds))")
            try await self.execute("UPDATE rejected_event SET published = true WHERE event_id = ANY(\(eventIds))")
        }
    }

    /// Unconfirmed events of the jobs this bridge owns or may take over (lease expired), and of
    /// rejected requests: what a starting bridge publishes again. A live bridge's own unconfirmed
    /// events stay its business.
    public func unpublishedEvents() async throws -> [StoredEvent] {
        try await timed {
            try await self.client.query(
                """
                SELECT e.event_id, e.job_id, e.sequence, e.kind, e.routing_key, e.body, e.headers, e.content_type,
                       j.reply_to, j.correlation_id
                FROM event e JOIN job j ON j.job_id = e.job_id
                WHERE NOT e.published AND (j.owner = \(self.owner) OR j.lease_expires < now())
                UNION ALL
                SELECT event_id, job_id, sequence, kind, routing_key, body, headers, content_type, reply_to, correlation_id
                FROM rejected_event WHERE NOT published
                ORDER BY 2, 3
                """, logger: self.logger
            ).collect().map(Self.storedEvent)
        }
    }

    // MARK: Rejected requests

    public func recordRejection(
        _ rejection: String, jobId: String, replyTo: String?, correlationId: String?,
        events: [(event: JobEvent, envelope: EventEnvelope, sequence: Int)], now: Date
    ) async throws -> [StoredEvent] {
        let rows = events.map { item in
            (item, Data(Journal.headersJSON(item.envelope.headers)))
        }
        return try await timed {
            try await self.transaction { connection, logger in
                let job = try await connection.query("SELECT 1 FROM job WHERE job_id = \(jobId)", logger: logger).collect()
                if !job.isEmpty { return [] }
                // Event ids derive from the request: two bridges rejecting it at once write the same rows.
                for ((event, envelope, sequence), headers) in rows {
                    try await connection.query(
                        """
                        INSERT INTO rejected_event (event_id, rejection, job_id, sequence, kind, routing_key, body, headers,
                                                    content_type, reply_to, correlation_id, created_at, published)
                        VALUES (\(envelope.id), \(rejection), \(jobId), \(sequence), \(event.kind.rawValue),
                                \(envelope.routingKey), \(Data(envelope.body)), \(headers), \(envelope.contentType),
                                \(replyTo), \(correlationId), \(now.timeIntervalSince1970), false)
                        ON CONFLICT (event_id) DO NOTHING
                        """, logger: logger)
                }
                return try await connection.query(
                    """
                    SELECT event_id, job_id, sequence, kind, routing_key, body, headers, content_type, reply_to, correlation_id
                    FROM rejected_event WHERE rejection = \(rejection) ORDER BY sequence
                    """, logger: logger
                ).collect().map(Self.storedEvent)
            }
        }
    }

    // MARK: Cancel marks

    public func rememberCancel(jobId: String, reason: String?, now: Date) async throws {
        try await timed {
            try await self.execute(
                """
                INSERT INTO cancel_mark (job_id, reason, created_at) VALUES (\(jobId), \(reason), \(now.timeIntervalSince1970))
                ON CONFLICT (job_id) DO NOTHING
                """)
        }
    }

    public func cancelMark(jobId: String) async throws -> CancelMark? {
        try await timed {
            try await self.client.query(
                "SELECT job_id, reason, created_at FROM cancel_mark WHERE job_id = \(jobId)", logger: self.logger
            ).collect().first.map(Self.cancelMark)
        }
    }

    // MARK: Leases

    /// Takes over unfinished jobs whose lease expired (and, with `includingOwn`, the ones this
    /// bridge's name still owns: a restart under a fixed `--instance-name`), in one atomic UPDATE, so
    /// two bridges never take the same job. Returns them oldest first, now owned by this bridge.
    public func claimUnfinished(includingOwn: Bool) async throws -> [JobRecord] {
        try await timed {
            try await self.client.query(
                """
                UPDATE job SET owner = \(self.owner), lease_expires = now() + \(self.lease.seconds) * interval '1 second'
                WHERE NOT ended AND (lease_expires < now() OR (\(includingOwn) AND owner = \(self.owner)))
                RETURNING *
                """, logger: self.logger
            ).collect().map(Self.record).sorted { ($0.createdAt, $0.jobId) < ($1.createdAt, $1.jobId) }
        }
    }

    /// The heartbeat: extends the lease of every unfinished job this bridge owns. Returns what the
    /// owner must act on: the jobs it still owns, and the cancel marks among them (a cancel another
    /// bridge's consumer took, or one that raced the job's start).
    public func renewLeases() async throws -> LeaseRenewal {
        try await timed {
            let owned = try await self.client.query(
                """
                UPDATE job SET lease_expires = now() + \(self.lease.seconds) * interval '1 second'
                WHERE owner = \(self.owner) AND NOT ended RETURNING job_id
                """, logger: self.logger
            ).collect().map { try $0.decode(String.self) }
            let marks = try await self.client.query(
                """
                SELECT c.job_id, c.reason, c.created_at FROM cancel_mark c JOIN job j ON j.job_id = c.job_id
                WHERE j.owner = \(self.owner) AND NOT j.ended
                """, logger: self.logger
            ).collect().map(Self.cancelMark)
            return LeaseRenewal(owned: Set(owned), cancels: marks)
        }
    }

    /// Lets the other bridges take this bridge's unfinished jobs at once (after a graceful shutdown
    /// suspended them) instead of after the lease.
    public func releaseLeases() async throws {
        try await timed {
            try await self.execute("UPDATE job SET lease_expires = now() WHERE owner = \(self.owner) AND NOT ended")
        }
    }

    // MARK: Housekeeping

    @discardableResult
    public func prune(finishedBefore: Date) async throws -> Int {
        let cutoff = finishedBefore.timeIntervalSince1970
        return try await timed {
            try await self.transaction { connection, logger in
                let jobs = try await connection.query(
                    """
                    DELETE FROM job WHERE ended AND ended_at < \(cutoff)
                    AND NOT EXISTS (SELECT 1 FROM event e WHERE e.job_id = job.job_id AND NOT e.published)
                    RETURNING job_id
                    """, logger: logger
                ).collect().count
                try await connection.query(
                    """
                    DELETE FROM rejected_event WHERE created_at < \(cutoff)
                    AND NOT EXISTS (SELECT 1 FROM rejected_event r WHERE r.rejection = rejected_event.rejection AND NOT r.published)
                    """, logger: logger)
                try await connection.query(
                    """
                    DELETE FROM cancel_mark WHERE created_at < \(cutoff)
                    AND NOT EXISTS (SELECT 1 FROM job j WHERE j.job_id = cancel_mark.job_id AND NOT j.ended)
                    """, logger: logger)
                return jobs
            }
        }
    }

    // MARK: Internals

    /// Runs `body`, failing with ``JournalError`` when it takes longer than ``operationTimeout``.
    ///
    /// The answer comes within the bound even when `body` does not stop when cancelled: a query
    /// sent on a connection the server dropped while shutting down was seen to wait for minutes
    /// (e2e `test_postgres_restart_under_load…`). So `body` runs in its own task, cancelled and left
    /// to finish on its own when time is up, instead of in a task group that would wait for it.
    private func timed<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let limit = operationTimeout
        let race = Race<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                race.begin(
                    continuation,
                    work: Task {
                        race.finish(with: await Result {
                            do { return try await body() } catch let error as PSQLError {
                                throw JournalError("PostgreSQL: \(Self.describe(error))")
                            }
                        })
                    },
                    timer: Task {
                        try await Task.sleep(for: limit)
                        race.finish(with: .failure(JournalError("the PostgreSQL journal did not answer within \(limit)")))
                    })
            }
        } onCancel: {
            race.finish(with: .failure(CancellationError()))
        }
    }

    /// Runs a statement whose rows are not needed, reading its answer to the end (which returns the
    /// pool's connection).
    private func execute(_ query: PostgresQuery) async throws {
        _ = try await client.query(query, logger: logger).collect()
    }

    private func transaction<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection, Logger) async throws -> T
    ) async throws -> T {
        let logger = self.logger
        return try await client.withConnection { connection in
            try await connection.query("BEGIN", logger: logger)
            do {
                let value = try await body(connection, logger)
                try await connection.query("COMMIT", logger: logger)
                return value
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    private func fetchJob(_ jobId: String) async throws -> JobRecord? {
        try await client.query("SELECT * FROM job WHERE job_id = \(jobId)", logger: logger).collect().first.map(Self.record)
    }

    /// postgres-nio's errors print a placeholder (its care not to leak a query's data); this names
    /// the code, the server's message and the cause, none of which holds the password.
    static func describe(_ error: any Error) -> String {
        if let error = error as? JournalError { return error.message }
        guard let error = error as? PSQLError else { return "\(error)" }
        var text = "\(error.code)"
        if let message = error.serverInfo?[.message] { text += ": \(message)" }
        if let underlying = error.underlying { text += " (\(underlying))" }
        return text
    }

    private static func record(_ row: PostgresRow) throws -> JobRecord {
        let row = row.makeRandomAccess()
        let state = try row["state"].decode(String.self)
        return JobRecord(
            jobId: try row["job_id"].decode(String.self), request: Array(try row["request"].decode(Data.self)),
            replyTo: try row["reply_to"].decode(String?.self), correlationId: try row["correlation_id"].decode(String?.self),
            state: JobState(rawValue: state) ?? .new, attempt: try row["attempt"].decode(Int.self),
            createdAt: Date(timeIntervalSince1970: try row["created_at"].decode(Double.self)),
            updatedAt: Date(timeIntervalSince1970: try row["updated_at"].decode(Double.self)),
            lastEvent: try row["last_event"].decode(String?.self).flatMap(JobEvent.Kind.init(rawValue:)),
            ended: try row["ended"].decode(Bool.self),
            outcome: try row["outcome"].decode(String?.self).flatMap(JobEvent.Kind.init(rawValue:)),
            suspensions: try row["suspensions"].decode(Int.self))
    }

    private static func storedEvent(_ row: PostgresRow) throws -> StoredEvent {
        let (eventId, jobId, sequence, kindName, routingKey, body, headers, contentType, replyTo, correlationId) =
            try row.decode((String, String, Int, String, String, Data, Data, String, String?, String?).self)
        guard let kind = JobEvent.Kind(rawValue: kindName) else {
            throw JournalError("the journal holds an event of unknown kind \(kindName)")
        }
        return StoredEvent(
            envelope: EventEnvelope(
                id: eventId, routingKey: routingKey, body: Array(body), headers: Journal.headers(fromJSON: Array(headers)),
                contentType: contentType),
            jobId: jobId, sequence: sequence, kind: kind, replyTo: replyTo, correlationId: correlationId)
    }

    private static func cancelMark(_ row: PostgresRow) throws -> CancelMark {
        let (jobId, reason, createdAt) = try row.decode((String, String?, Double).self)
        return CancelMark(jobId: jobId, reason: reason, requestedAt: Date(timeIntervalSince1970: createdAt))
    }

    /// A schema name as an SQL identifier (quoted; the URL's value is checked to be plain).
    private static func identifier(_ name: String) -> String { "\"\(name)\"" }

    /// The name after `IF NOT EXISTS` in each statement of ``tables``.
    private static let tableAndIndexNames: [String] = tables.compactMap { statement in
        let words = statement.split(whereSeparator: \.isWhitespace)
        guard let at = words.firstIndex(of: "EXISTS"), at + 1 < words.count else { return nil }
        return String(words[at + 1])
    }

    /// The tables of ``Journal`` (SQLite) with an owner and a lease on `job`. Times the bridge
    /// journals are seconds since 1970 as there; the lease is the database's own `timestamptz`.
    private static let tables = [
        """
        CREATE TABLE IF NOT EXISTS job (
            job_id TEXT PRIMARY KEY,
            request BYTEA NOT NULL,
            reply_to TEXT,
            correlation_id TEXT,
            state TEXT NOT NULL,
            attempt BIGINT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            updated_at DOUBLE PRECISION NOT NULL,
            last_event TEXT,
            outcome TEXT,
            result BYTEA,
            error BYTEA,
            ended BOOLEAN NOT NULL DEFAULT false,
            ended_at DOUBLE PRECISION,
            suspensions BIGINT NOT NULL DEFAULT 0,
            owner TEXT,
            lease_expires TIMESTAMPTZ
        )
        """,
        "CREATE INDEX IF NOT EXISTS job_unfinished ON job (lease_expires) WHERE NOT ended",
        """
        CREATE TABLE IF NOT EXISTS event (
            event_id TEXT PRIMARY KEY,
            job_id TEXT NOT NULL REFERENCES job (job_id) ON DELETE CASCADE,
            sequence BIGINT NOT NULL,
            kind TEXT NOT NULL,
            routing_key TEXT NOT NULL,
            body BYTEA NOT NULL,
            headers BYTEA NOT NULL,
            content_type TEXT NOT NULL,
            published BOOLEAN NOT NULL DEFAULT false,
            UNIQUE (job_id, sequence)
        )
        """,
        "CREATE INDEX IF NOT EXISTS event_unpublished ON event (job_id, sequence) WHERE NOT published",
        """
        CREATE TABLE IF NOT EXISTS cancel_mark (
            job_id TEXT PRIMARY KEY,
            reason TEXT,
            created_at DOUBLE PRECISION NOT NULL
        )
        """,
        // `event`'s columns again on purpose, as in ``Journal``: a rejected request is not a job, and a
        // `job` row (which `event` needs) would make its ID known and refuse a later valid request.
        """
        CREATE TABLE IF NOT EXISTS rejected_event (
            event_id TEXT PRIMARY KEY,
            rejection TEXT NOT NULL,
            job_id TEXT NOT NULL,
            sequence BIGINT NOT NULL,
            kind TEXT NOT NULL,
            routing_key TEXT NOT NULL,
            body BYTEA NOT NULL,
            headers BYTEA NOT NULL,
            content_type TEXT NOT NULL,
            reply_to TEXT,
            correlation_id TEXT,
            created_at DOUBLE PRECISION NOT NULL,
            published BOOLEAN NOT NULL DEFAULT false
        )
        """,
        "CREATE INDEX IF NOT EXISTS rejected_event_rejection ON rejected_event (rejection)",
    ]
}

/// The first of an operation's answer, its deadline and its caller's cancellation: resumes the caller
/// once, and cancels the work and the timer that lost.
private final class Race<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var tasks: [Task<Void, any Error>] = []
        var outcome: Result<T, any Error>?
    }
    private let state = Mutex(State())

    func begin(_ continuation: CheckedContinuation<T, any Error>, work: Task<Void, any Error>, timer: Task<Void, any Error>) {
        let early: Result<T, any Error>? = state.withLock { state in
            state.tasks = [work, timer]
            if let outcome = state.outcome { return outcome }
            state.continuation = continuation
            return nil
        }
        if let early {
            work.cancel()
            timer.cancel()
            continuation.resume(with: early)
        }
    }

    func finish(with outcome: Result<T, any Error>) {
        let (continuation, tasks) = state.withLock { state -> (CheckedContinuation<T, any Error>?, [Task<Void, any Error>]) in
            guard state.outcome == nil else { return (nil, []) }
            state.outcome = outcome
            defer { state.continuation = nil }
            return (state.continuation, state.tasks)
        }
        for task in tasks { task.cancel() }
        continuation?.resume(with: outcome)
    }
}

extension Result where Failure == any Error {
    /// The result of an async throwing closure.
    init(_ body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}

/// What a heartbeat tells the owner: the unfinished jobs it still owns, and cancels among them.
public struct LeaseRenewal: Sendable, Hashable {
    public var owned: Set<String>
    public var cancels: [CancelMark]
    public init(owned: Set<String>, cancels: [CancelMark]) {
        self.owned = owned
        self.cancels = cancels
    }
}

/// An event of a job another bridge has taken over (this one's lease expired): not journaled, and
/// never to be retried; the new owner journals the job's events from here on.
public struct LeaseLost: Error, Sendable, Hashable, CustomStringConvertible {
    public var jobId: String
    public var owner: String?
    public var description: String { "job \(jobId) is now owned by \(owner ?? "nobody"): this bridge's lease expired" }
}
