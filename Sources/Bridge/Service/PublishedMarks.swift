import Logging
import Synchronization

/// Collects the ids of events the broker confirmed and records them in the journal in batches.
///
/// One transaction per confirmed event kept the journal's single writer busy with bookkeeping; a
/// batch every few milliseconds costs one. If the bridge dies before a batch is written, those
/// events are sent again at the next start with the same CloudEvent id, which the contract allows
/// (delivery is at least once).
final class PublishedMarks: Sendable {
    private let pending = Mutex<[String]>([])
    private let journal: any JobJournal
    private let logger: Logger
    private let clock: any Clock<Duration>

    init(journal: any JobJournal, clock: any Clock<Duration> = ContinuousClock(), logger: Logger) {
        self.journal = journal
        self.clock = clock
        self.logger = logger
    }

    func add(_ eventId: String) {
        pending.withLock { $0.append(eventId) }
    }

    /// Writes what has been collected.
    func flush() async {
        let batch = pending.withLock { pending -> [String] in
            defer { pending.removeAll(keepingCapacity: true) }
            return pending
        }
        guard !batch.isEmpty else { return }
        do { try await journal.markPublished(eventIds: batch) } catch {
            logger.error("journal mark failed; these events will be sent again", metadata: ["events": "\(batch.count)", "error": "\(error)"])
        }
    }

    /// Flushes every `interval` until cancelled, then once more.
    func run(interval: Duration = .milliseconds(20)) async {
        while !Task.isCancelled {
            try? await clock.sleep(for: interval)
            await flush()
        }
        await flush()
    }
}
