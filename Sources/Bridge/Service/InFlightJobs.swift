import Synchronization

/// The jobs a bridge holds and how far a drain got.
///
/// Admission and the drain's phases share one lock: once draining began, no job is admitted, so a
/// permit that a suspended job frees can never start another job after the drain suspended the rest.
/// A drain waits for "none left" (``waitUntilEmpty()``), signalled by the event pump that removes the
/// last; intake waits for "draining began" (``waitUntilDraining()``) to close its consumer; pumps wait
/// for "abandoned" (``waitUntilAbandoned()``) to stop publishing when the drain's bound is over.
final class InFlightJobs: Sendable {
    enum Phase: Int, Sendable, Comparable {
        /// Jobs are admitted.
        case running
        /// Graceful shutdown began: no job is admitted; the running ones may still end on their own.
        case draining
        /// The grace period is over: the jobs are being suspended for the next start to resume.
        case suspending
        /// The suspended jobs' pumps had their time: they stop, leaving unsent events to the journal.
        case abandoning

        static func < (lhs: Phase, rhs: Phase) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    private enum Condition { case empty, draining, abandoned }

    private struct State {
        var phase = Phase.running
        var jobs: Set<String> = []
        var waiters: [UInt64: (until: Condition, continuation: CheckedContinuation<Void, Never>)] = [:]
        var nextWaiter: UInt64 = 0
        var cancelledEarly: Set<UInt64> = []

        func holds(_ condition: Condition) -> Bool {
            switch condition {
            case .empty: jobs.isEmpty
            case .draining: phase >= .draining
            case .abandoned: phase >= .abandoning
            }
        }

        /// Takes the waiters whose condition now holds.
        mutating func satisfied() -> [CheckedContinuation<Void, Never>] {
            let ready = waiters.filter { holds($0.value.until) }
            for id in ready.keys { waiters.removeValue(forKey: id) }
            return ready.values.map(\.continuation)
        }
    }

    private let state = Mutex(State())

    var phase: Phase { state.withLock { $0.phase } }

    /// How many jobs are held (running or waiting for a slot).
    var count: Int { state.withLock { $0.jobs.count } }

    /// Counts the job in; false (and nothing counted) once draining began.
    func admit(_ jobId: String) -> Bool {
        state.withLock { state in
            guard state.phase == .running else { return false }
            state.jobs.insert(jobId)
            return true
        }
    }

    /// The job is no longer held; the last one out wakes ``waitUntilEmpty()``.
    func remove(_ jobId: String) {
        update { $0.jobs.remove(jobId) }
    }

    /// Stops admission.
    func beginDraining() { advance(to: .draining) }

    /// Marks that the drain is suspending the jobs: a job created after that must not start.
    func beginSuspending() { advance(to: .suspending) }

    /// Tells the pumps to stop.
    func abandon() { advance(to: .abandoning) }

    /// Returns once no job is held, or when the calling task is cancelled.
    func waitUntilEmpty() async { await wait(until: .empty) }

    /// Returns once draining began, or when the calling task is cancelled.
    func waitUntilDraining() async { await wait(until: .draining) }

    /// Returns once the pumps are abandoned, or when the calling task is cancelled.
    func waitUntilAbandoned() async { await wait(until: .abandoned) }

    private func advance(to phase: Phase) {
        update { $0.phase = max($0.phase, phase) }
    }

    private func update(_ change: (inout State) -> Void) {
        let waiters = state.withLock { state in
            change(&state)
            return state.satisfied()
        }
        for waiter in waiters { waiter.resume() }
    }

    private func wait(until condition: Condition) async {
        let id = state.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    if state.holds(condition) || state.cancelledEarly.remove(id) != nil { return true }
                    state.waiters[id] = (condition, continuation)
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                let waiter = state.waiters.removeValue(forKey: id)
                if waiter == nil && !state.holds(condition) { state.cancelledEarly.insert(id) }
                return waiter
            }
            waiter?.continuation.resume()
        }
    }
}
