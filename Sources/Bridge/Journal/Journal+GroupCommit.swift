import GRDB
import Synchronization

/// Group commit for the job path's appends: writes that arrive while the writer is busy wait in a
/// queue, and the next turn of the writer commits them all in one transaction. Each caller still
/// returns only after its write committed, so the guarantee is the one a transaction per write
/// gives; what is saved is a `BEGIN`/`COMMIT`, the WAL frames of the pages the writes share, and a
/// hop onto the writer's queue per write.
///
/// Each write runs inside its own savepoint: one that fails (a job never accepted, a constraint)
/// is rolled back alone and fails alone. If SQLite itself abandoned the transaction (disk full,
/// I/O error), or the commit fails, every write of the group fails and its caller retries (which
/// is why only idempotent writes, such as ``append(event:envelope:sequence:)``, are grouped).
extension Journal {
    /// One queued write: `run` executes it inside the group's transaction and returns what answers
    /// its caller once the commit is known (`nil`: committed); `fail` answers it without running.
    struct GroupedWrite: Sendable {
        let run: @Sendable (Database) -> @Sendable ((any Error)?) -> Void
        let fail: @Sendable (any Error) -> Void
    }

    /// The writes waiting for the writer, and whether a turn of the writer is already scheduled.
    struct WriteGroup: Sendable {
        var writes: [GroupedWrite] = []
        var scheduled = false
    }

    /// Runs `body` in the next group commit and returns its result once that group committed.
    func writeGrouped<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let write = GroupedWrite(
                run: { db in
                    let result = Result { try Self.inSavepoint(db) { try body(db) } }
                    return { commitError in
                        if let commitError { continuation.resume(throwing: commitError) } else { continuation.resume(with: result) }
                    }
                },
                fail: { continuation.resume(throwing: $0) })
            let schedule = group.withLock { group -> Bool in
                group.writes.append(write)
                defer { group.scheduled = true }
                return !group.scheduled
            }
            if schedule { pool.asyncWriteWithoutTransaction { db in self.commitGroup(db) } }
        }
    }

    /// One turn of the writer: takes every queued write and commits them together.
    private func commitGroup(_ db: Database) {
        let writes = group.withLock { group -> [GroupedWrite] in
            defer {
                group.writes.removeAll(keepingCapacity: true)
                group.scheduled = false
            }
            return group.writes
        }
        var answers: [@Sendable ((any Error)?) -> Void] = []
        answers.reserveCapacity(writes.count)
        do {
            try db.beginTransaction(.immediate)
            for write in writes {
                answers.append(write.run(db))
                // SQLite rolls the whole transaction back on some errors (SQLITE_FULL, SQLITE_IOERR):
                // the writes before this one are then gone too.
                guard db.isInsideTransaction else { throw JournalError("SQLite abandoned the journal's transaction") }
            }
            try db.commit()
        } catch {
            if db.isInsideTransaction { try? db.rollback() }
            for answer in answers { answer(error) }
            for write in writes.dropFirst(answers.count) { write.fail(error) }
            return
        }
        for answer in answers { answer(nil) }
    }

    /// Runs `body` between `SAVEPOINT` and `RELEASE` (prepared once), rolling back to the savepoint
    /// when it throws. GRDB's `inSavepoint` parses its SQL on every call.
    private static func inSavepoint<T>(_ db: Database, _ body: () throws -> T) throws -> T {
        try db.cachedStatement(sql: "SAVEPOINT journalWrite").execute()
        do {
            let value = try body()
            try db.cachedStatement(sql: "RELEASE SAVEPOINT journalWrite").execute()
            return value
        } catch {
            if db.isInsideTransaction {
                try db.cachedStatement(sql: "ROLLBACK TO SAVEPOINT journalWrite").execute()
                try db.cachedStatement(sql: "RELEASE SAVEPOINT journalWrite").execute()
            }
            throw error
        }
    }
}
