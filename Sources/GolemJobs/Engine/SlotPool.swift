import Synchronization

/// The engine's concurrency limit: at most `capacity` jobs hold a slot; the others wait in FIFO order.
final class SlotPool: Sendable {
    private struct State {
        var capacity: Int
        var holders: Set<String> = []
        var waiters: [(id: String, grant: @Sendable () -> Void)] = []
    }

    private let state: Mutex<State>
    private let metrics: JobEngineMetrics?

    init(capacity: Int, metrics: JobEngineMetrics? = nil) {
        state = Mutex(State(capacity: max(capacity, 1)))
        self.metrics = metrics
    }

    /// Under the lock, so that two changes cannot report their counts in the wrong order.
    private func report(_ state: State) {
        metrics?.running.record(state.holders.count)
        metrics?.waiting.record(state.waiters.count)
    }

    /// Calls `grant` (maybe right away, never under the lock) once job `id` holds a slot.
    func request(_ id: String, grant: @escaping @Sendable () -> Void) {
        let granted = state.withLock { state -> Bool in
            defer { report(state) }
            if state.holders.count < state.capacity {
                state.holders.insert(id)
                return true
            }
            state.waiters.append((id, grant))
            return false
        }
        if granted { grant() }
    }

    /// Gives back job `id`'s slot, or drops its place in the queue. Harmless when it has neither.
    func relinquish(_ id: String) {
        let next = state.withLock { state -> (@Sendable () -> Void)? in
            defer { report(state) }
            if let index = state.waiters.firstIndex(where: { $0.id == id }) {
                state.waiters.remove(at: index)
                return nil
            }
            guard state.holders.remove(id) != nil, !state.waiters.isEmpty else { return nil }
            let waiter = state.waiters.removeFirst()
            state.holders.insert(waiter.id)
            return waiter.grant
        }
        next?()
    }

    var holderCount: Int { state.withLock { $0.holders.count } }
    var waiterCount: Int { state.withLock { $0.waiters.count } }
}
