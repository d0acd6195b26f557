import Foundation
import GRDB
import Yagna

/// ``RentalStore`` in a small SQLite file of its own (WAL), so the core and the Bridge journal stay
/// unaware of Golem. Reads and writes run on GRDB's queue, not Swift's cooperative pool.
public final class SQLiteRentalStore: RentalStore {
    private let queue: DatabaseQueue
    private let clock: any GolemClock

    /// `clock` dates the records and the first start (the machine's by default).
    public init(path: String, clock: any GolemClock = SystemGolemClock()) throws {
        self.clock = clock
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.label = "golem-bridge.golem-state"
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        queue = try DatabaseQueue(path: path, configuration: config)
        try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = WAL") }
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE agreement (id TEXT PRIMARY KEY, providerId TEXT NOT NULL, live INTEGER NOT NULL, createdAt REAL NOT NULL);
                CREATE TABLE activity (id TEXT PRIMARY KEY, agreementId TEXT NOT NULL, createdAt REAL NOT NULL);
                CREATE TABLE setting (name TEXT PRIMARY KEY, value TEXT NOT NULL);
                """)
        }
        // The first start, where payment cursors begin. A store from before this migration starts
        // at its oldest agreement, whose payment events are still owed.
        migrator.registerMigration("v2-first-start") { db in
            let oldest = try Double.fetchOne(db, sql: "SELECT MIN(createdAt) FROM agreement")
            let start = oldest.map { Date(timeIntervalSince1970: $0) } ?? clock.date
            try db.execute(sql: "INSERT OR IGNORE INTO setting (name, value) VALUES ('firstStart', ?)", arguments: [YagnaClient.timestamp(start)])
        }
        try migrator.migrate(queue)
    }

    public func firstStart() async throws -> String {
        guard let start = try await cursor("firstStart") else { throw DatabaseError(message: "the state store has no firstStart") }
        return start
    }

    public func allocationId() async throws -> String? { try await cursor("allocation") }

    public func setAllocationId(_ id: String?) async throws {
        try await queue.write { db in
            if let id {
                try db.execute(sql: "INSERT OR REPLACE INTO setting (name, value) VALUES ('allocation', ?)", arguments: [id])
            } else {
                try db.execute(sql: "DELETE FROM setting WHERE name = 'allocation'")
            }
        }
    }

    public func recordAgreement(_ agreementId: String, providerId: String) async throws {
        let now = clock.date.timeIntervalSince1970
        try await queue.write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO agreement (id, providerId, live, createdAt) VALUES (?, ?, 1, ?)",
                arguments: [agreementId, providerId, now])
        }
    }

    public func markTerminated(agreementId: String) async throws {
        try await queue.write { db in
            try db.execute(sql: "UPDATE agreement SET live = 0 WHERE id = ?", arguments: [agreementId])
        }
    }

    public func forgetAgreement(_ agreementId: String) async throws {
        try await queue.write { db in
            try db.execute(sql: "DELETE FROM agreement WHERE id = ?", arguments: [agreementId])
        }
    }

    public func recordActivity(_ activityId: String, agreementId: String) async throws {
        let now = clock.date.timeIntervalSince1970
        try await queue.write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO activity (id, agreementId, createdAt) VALUES (?, ?, ?)",
                arguments: [activityId, agreementId, now])
        }
    }

    public func forgetActivity(_ activityId: String) async throws {
        try await queue.write { db in
            try db.execute(sql: "DELETE FROM activity WHERE id = ?", arguments: [activityId])
        }
    }

    public func leftovers() async throws -> (agreements: [String], activities: [String]) {
        try await queue.read { db in
            (try String.fetchAll(db, sql: "SELECT id FROM agreement WHERE live = 1 ORDER BY createdAt"),
             try String.fetchAll(db, sql: "SELECT id FROM activity ORDER BY createdAt"))
        }
    }

    public func agreements() async throws -> [String] {
        try await queue.read { db in try String.fetchAll(db, sql: "SELECT id FROM agreement ORDER BY createdAt") }
    }

    public func cursor(_ name: String) async throws -> String? {
        try await queue.read { db in
            try String.fetchOne(db, sql: "SELECT value FROM setting WHERE name = ?", arguments: [name])
        }
    }

    public func setCursor(_ name: String, _ value: String) async throws {
        try await queue.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO setting (name, value) VALUES (?, ?)", arguments: [name, value])
        }
    }
}
