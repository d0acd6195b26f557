import Synchronization

/// The jobs a bridge holds, each with the task that carries its events out, and how far a drain got.
///
/// Admission and the drain's phases share one lock: once draining began, no job is admitted, so a
/// permit that a suspended job frees can never start another job after the drain suspended the rest.
/// A drain waits for "none left" (``waitUntilEmpty()``), signalled by the pump that removes the last;
/// intake waits for "draining began" (``waitUntilDraining()``) to close its consumer.
final class InFlightJobs: Sendable {
    enum Phase: Sendable {
        /// Jobs are admitted.
        case running
        /// Graceful shutdown began: no job is admitted; the running ones may still end on their own.
        case draining
        /// The grace period is over: the jobs are being suspended for the next start to resume.
        case suspending
    }

    private struct State {
        var phase = Phase.running
        /// `nil` between admission and the pump's start.
        var pumps: [String: Task<Void, Never>?] = [:]
        var waiters: [UInt64: (until: Condition, continuation: CheckedContinuation<Void, Never>)] = [:]
        var nextWaiter: UInt64 = 0
        var cancelledEarly: Set<UInt64> = []

        func holds(_ condition: Condition) -> Bool {
            switch condition {
            case .empty: pumps.isEmpty
            case .draining: phase != .running
            }
        }

        /// Takes the waiters whose condition now holds.
        mutating func satisfied() -> [CheckedContinuation<Void, Never>] {
            let ready = waiters.filter { holds($0.value.until) }
            for id in ready.keys { waiters.removeValue(forKey: id) }
            return ready.values.map(\.continuation)
        }
    }

    private enum Condition { case empty, draining }

    private let state = Mutex(State())

    var phase: Phase { state.withLock { $0.phase } }

    /// How many jobs are held (running or waiting for a slot).
    var count: Int { state.withLock { $0.pumps.count } }

    /// The event tasks of the jobs held.
    var pumps: [Task<Void, Never>] { state.withLock { $0.pumps.values.compactMap { $0 } } }

    /// Counts the job in; false (and nothing counted) once draining began.
    func admit(_ jobId: String) -> Bool {
        state.withLock { state in
            guard state.phase == .running else { return false }
            state.pumps[jobId] = .some(nil)
            return true
        }
    }

    /// Records the task carrying the job's events, unless it already ended and was removed.
    func attach(_ pump: Task<Void, Never>, to jobId: String) {
        state.withLock { state in
            if state.pumps.keys.contains(jobId) { state.pumps[jobId] = .some(pump) }
        }
    }

    /// The job is no longer held; the last one out wakes ``waitUntilEmpty()``.
    func remove(_ jobId: String) {
        let waiters = state.withLock { state in
            state.pumps.removeValue(forKey: jobId)
            return state.satisfied()
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Stops admission.
    func beginDraining() {
        let waiters = state.withLock { state in
            if state.phase == .running { state.phase = .draining }
            return state.satisfied()
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Marks that the drain is suspending the jobs: a job created after that must not start.
    func beginSuspending() {
        state.withLock { $0.phase = .suspending }
    }

    /// Returns once no job is held, or when the calling task is cancelled.
    func waitUntilEmpty() async { await wait(until: .empty) }

    /// Returns once draining began, or when the calling task is cancelled.
    func waitUntilDraining() async { await wait(until: .draining) }

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
