import Foundation
import Logging
import Synchronization
import Testing
@testable import Bridge

/// The two journals behind ``JobJournal``; the journal's behaviour tests run against each.
enum JournalKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }
}

/// One test's journal storage: a SQLite file in a new directory, or a new schema in the PostgreSQL
/// that `scripts/postgres start` runs (`GOLEM_BRIDGE_TEST_POSTGRES_URL`, default its URL). Every
/// ``open(owner:)`` is another journal instance on the same storage: a restarted bridge, or another
/// bridge sharing it.
final class JournalStore: Sendable {
    static let postgresURL = ProcessInfo.processInfo.environment["GOLEM_BRIDGE_TEST_POSTGRES_URL"]
        ?? "postgres://golem:golem@127.0.0.1:55432/golem_bridge"

    let kind: JournalKind
    let directory: URL
    let schema: String
    private let pools = Mutex<[Task<Void, Never>]>([])

    init(_ kind: JournalKind) throws {
        self.kind = kind
        let token = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("journal-tests-\(token)")
        schema = "t_\(token)"
        if kind == .sqlite { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) }
    }

    /// Runs `body` with a new store of `kind`, then stops its connection pools and removes its file.
    static func with(_ kind: JournalKind, _ body: (JournalStore) async throws -> Void) async throws {
        let store = try JournalStore(kind)
        defer { store.close() }
        try await body(store)
    }

    /// A journal instance on this store; `owner` is the bridge's name (PostgreSQL's leases).
    func open(owner: String = "bridge-a") async throws -> any JobJournal {
        switch kind {
        case .sqlite:
            return try Journal(path: directory.appendingPathComponent("journal.sqlite").path)
        case .postgres:
            return try await openPostgres(owner: owner)
        }
    }

    /// A PostgreSQL journal instance on this store's schema, running and migrated.
    func openPostgres(owner: String = "bridge-a") async throws -> PostgresJournal {
        let journal = try PostgresJournal(
            url: "\(Self.postgresURL)?sslmode=disable&schema=\(schema)", owner: owner,
            // Not the bridge's 5 s: on a loaded 2-core machine a test's burst of connections may take longer.
            operationTimeout: .seconds(60), logger: Logger(label: "journal-tests")
        )
        pools.withLock { $0.append(Task { await journal.run() }) }
        try await journal.migrate()
        return journal
    }

    func close() {
        pools.withLock { tasks in
            for task in tasks { task.cancel() }
            tasks.removeAll()
        }
        try? FileManager.default.removeItem(at: directory)
    }
}
