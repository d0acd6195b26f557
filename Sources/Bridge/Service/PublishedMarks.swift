import Logging
import Synchronization

/// Collects the ids of events the broker confirmed and records them in the journal in batches.
///
/// One transaction per confirmed event kept the journal's single writer busy with bookkeeping; a
/// batch every few milliseconds costs one. If the bridge dies before a batch is written, those
/// events are sent again at the next start with the same CloudEvent id, which the contract allows
/// (delivery is at least once). An idle bridge is not woken: the timer starts with the first mark.
final class PublishedMarks: Sendable {
    private let pending = Mutex<(ids: [String], waiter: CheckedContinuation<Void, Never>?)>(([], nil))
    private let journal: any JobJournal
    private let logger: Logger
    private let clock: any Clock<Duration>

    init(journal: any JobJournal, clock: any Clock<Duration> = ContinuousClock(), logger: Logger) {
        self.journal = journal
        self.clock = clock
        self.logger = logger
    }

    func add(_ eventId: String) {
        pending.withLock { pending -> CheckedContinuation<Void, Never>? in
            pending.ids.append(eventId)
            defer { pending.waiter = nil }
            return pending.waiter
        }?.resume()
    }

    /// Writes what has been collected.
    func flush() async {
        let batch = pending.withLock { pending -> [String] in
            defer { pending.ids.removeAll(keepingCapacity: true) }
            return pending.ids
        }
        guard !batch.isEmpty else { return }
        do { try await journal.markPublished(eventIds: batch) } catch {
            logger.error("journal mark failed; these events will be sent again", metadata: ["events": "\(batch.count)", "error": "\(error)"])
        }
    }

    /// Flushes `interval` after the first mark of a batch, until cancelled, then once more.
    func run(interval: Duration = .milliseconds(20)) async {
        while !Task.isCancelled {
            await firstMark()
            try? await clock.sleep(for: interval)
            await flush()
        }
        await flush()
    }

    /// Returns when a mark is pending, or when the task is cancelled.
    private func firstMark() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = pending.withLock { pending -> Bool in
                    if !pending.ids.isEmpty || Task.isCancelled { return true }
                    pending.waiter = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            pending.withLock { pending -> CheckedContinuation<Void, Never>? in
                defer { pending.waiter = nil }
                return pending.waiter
            }?.resume()
        }
    }
}
