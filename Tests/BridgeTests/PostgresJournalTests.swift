import Foundation
import GolemJobs
import AMQP
import Logging
import PostgresNIO
import Testing
@testable import Bridge

/// What only the shared journal does: one job ID across bridges, owners, leases and take-over.
@Suite struct PostgresJournalTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func append(_ journal: PostgresJournal, _ jobId: String, _ kind: JobEvent.Kind, state: JobState) async throws {
        let event = JobEvent(jobId: jobId, kind: kind, state: state, attempt: 1, time: t0)
        let sequence = try await journal.nextSequence(jobId: jobId)
        let envelope = EventCodec.encode(event, id: "\(jobId)-\(sequence)-\(UUID().uuidString)", sequence: sequence, source: "t", labels: [:])
        try await journal.append(event: event, envelope: envelope, sequence: sequence)
    }

    @Test func oneJobIdIsAcceptedOnceAcrossBridges() async throws {
        try await JournalStore.with(.postgres) { store in
            let bridges = [try await store.openPostgres(owner: "a"), try await store.openPostgres(owner: "b"), try await store.openPostgres(owner: "c")]
            // Every bridge takes the same 30 IDs at once: each ID is accepted by exactly one of them.
            let accepted = try await withThrowingTaskGroup(of: [String].self) { group in
                for bridge in bridges {
                    group.addTask {
                        var mine: [String] = []
                        for i in 0..<30 {
                            if case .accepted = try await bridge.accept(jobId: "j\(i)", request: [], replyTo: nil, correlationId: nil, now: Self.t0) {
                                mine.append("j\(i)")
                            }
                        }
                        return mine
                    }
                }
                return try await group.reduce(into: [String]()) { $0 += $1 }
            }
            #expect(accepted.sorted() == (0..<30).map { "j\($0)" }.sorted())
        }
    }

    @Test func onlyTheOwnerJournalsEventsAndATakeOverMovesOwnership() async throws {
        try await JournalStore.with(.postgres) { store in
            let a = try await store.openPostgres(owner: "a")
            let b = try await store.openPostgres(owner: "b")
            _ = try await a.accept(jobId: "x", request: [1], replyTo: nil, correlationId: nil, now: Self.t0)
            try await Self.append(a, "x", .created, state: .new)
            await #expect(throws: LeaseLost.self) { try await Self.append(b, "x", .started, state: .pending) }
            // a's lease is live: b takes nothing; a's own restart takes its job back.
            #expect(try await b.claimUnfinished(includingOwn: false).isEmpty)
            #expect(try await a.claimUnfinished(includingOwn: true).map(\.jobId) == ["x"])
            #expect(try await a.renewLeases().owned == ["x"])

            // a stops (its lease ends): b takes the job over, a can no longer journal it.
            try await a.releaseLeases()
            let taken = try await b.claimUnfinished(includingOwn: false)
            #expect(taken.map(\.jobId) == ["x"])
            #expect(taken.first?.lastEvent == .created)
            #expect(try await a.claimUnfinished(includingOwn: false).isEmpty)
            await #expect(throws: LeaseLost.self) { try await Self.append(a, "x", .started, state: .pending) }
            #expect(try await a.renewLeases().owned.isEmpty)
            try await Self.append(b, "x", .started, state: .pending)
            #expect(try await b.snapshot(jobId: "x")?.lastEvent == "started")
        }
    }

    @Test func aCancelAnotherBridgeRemembersReachesTheOwnersHeartbeat() async throws {
        try await JournalStore.with(.postgres) { store in
            let a = try await store.openPostgres(owner: "a")
            let b = try await store.openPostgres(owner: "b")
            _ = try await a.accept(jobId: "y", request: [], replyTo: nil, correlationId: nil, now: Self.t0)
            #expect(try await a.renewLeases().cancels.isEmpty)
            try await b.rememberCancel(jobId: "y", reason: "stop it", now: Self.t0)
            #expect(try await a.renewLeases().cancels.map(\.reason) == ["stop it"])
            #expect(try await b.renewLeases().cancels.isEmpty)
        }
    }

    @Test func anEndedJobIsNeitherRenewedNorTakenOver() async throws {
        try await JournalStore.with(.postgres) { store in
            let a = try await store.openPostgres(owner: "a")
            let b = try await store.openPostgres(owner: "b")
            _ = try await a.accept(jobId: "z", request: [], replyTo: nil, correlationId: nil, now: Self.t0)
            try await Self.append(a, "z", .success, state: .done)
            try await Self.append(a, "z", .ended, state: .done)
            try await a.releaseLeases()
            #expect(try await a.renewLeases().owned.isEmpty)
            #expect(try await b.claimUnfinished(includingOwn: false).isEmpty)
        }
    }

    @Test func aBridgeStartingBesideWritingBridgesWaitsForNoTableLock() async throws {
        try await JournalStore.with(.postgres) { store in
            _ = try await store.openPostgres(owner: "a")
            // A running bridge's transaction, as it journals an event: ROW EXCLUSIVE on both tables.
            let settings = try PostgresURL("\(JournalStore.postgresURL)?sslmode=disable&schema=\(store.schema)")
            let logger = Logger(label: "writer")
            let writer = try await PostgresConnection.connect(configuration: settings.connectionConfiguration(), id: 1, logger: logger)
            // Closed on every path: a connection dropped unclosed traps in postgres-nio (debug builds).
            do {
                try await writer.query("BEGIN", logger: logger)
                // This connection has no search_path: the tables by their schema (only [a-z0-9_] in its name).
                let tables = "\(store.schema).job, \(store.schema).event"
                try await writer.query(PostgresQuery(unsafeSQL: "LOCK TABLE \(tables) IN ROW EXCLUSIVE MODE"), logger: logger)
                // Another bridge starts meanwhile. Its `CREATE INDEX IF NOT EXISTS` used to wait for SHARE on
                // `job` behind the writer (and deadlocked with the writer's next statement).
                _ = try await store.openPostgres(owner: "b")
                try await writer.query("ROLLBACK", logger: logger)
            } catch {
                try? await writer.close()
                throw error
            }
            try await writer.close()
        }
    }

    @Test func urlIsReadAndItsPasswordNeverShown() throws {
        let url = try PostgresURL("postgres://bridge:s3cret@db.example:6543/jobs?sslmode=disable&schema=golem&lease=12")
        #expect(url.host == "db.example")
        #expect(url.port == 6543)
        #expect(url.user == "bridge")
        #expect(url.password == "s3cret")
        #expect(url.database == "jobs")
        #expect(url.schema == "golem")
        #expect(url.lease == .seconds(12))
        #expect(!url.redacted.contains("s3cret"))
        #expect(url.redacted.contains("db.example:6543/jobs"))
        var configuration = BridgeConfiguration(amqp: try AMQPConfiguration(url: "amqp://guest:guest@127.0.0.1:5672/"))
        configuration.journalPath = "postgres://bridge:s3cret@db.example/jobs"
        #expect(!configuration.redactedJournal.contains("s3cret"))
        for bad in ["postgres://db/jobs", "postgres://u@db/", "postgres://u@db/jobs?lease=0", "postgres://u@db/jobs?schema=A;drop",
                    "postgres://u@db/jobs?sslmode=maybe", "postgres://u@db/jobs?color=red", "mysql://u@db/jobs"] {
            #expect(throws: JournalError.self, "\(bad)") { try PostgresURL(bad) }
        }
        #expect(PostgresURL.isPostgres("postgresql://u@db/jobs"))
        #expect(!PostgresURL.isPostgres("/var/lib/golem-bridge/journal.sqlite"))
    }
}
