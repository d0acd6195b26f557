import Synchronization

/// Bounds how many accepted jobs a bridge holds at once (running plus waiting for a slot).
///
/// A request is taken from the broker only when a permit is free, so a full bridge leaves requests in
/// the queue, where another bridge can take them, and its memory stays flat however long the queue is.
final class IntakeGate: Sendable {
    private struct State {
        var available: Int
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Bool, Never>)] = []
        var nextId: UInt64 = 0
        /// Waiters that expired before they were queued (a timer or cancel that won the race).
        var expiredEarly: Set<UInt64> = []
        /// Set by ``close()``: no permit is handed out any more.
        var closed = false
    }

    private let state: Mutex<State>
    /// Times ``acquire(timeout:)``: the bridge's injected clock.
    private let clock: any Clock<Duration>

    init(permits: Int, clock: any Clock<Duration> = ContinuousClock()) {
        state = Mutex(State(available: permits))
        self.clock = clock
    }

    /// Takes a permit, waiting at most `timeout`. Returns false when none came in time, the task was
    /// cancelled, or the gate is closed.
    func acquire(timeout: Duration) async -> Bool {
        let fast = state.withLock { state -> Bool? in
            if state.closed { return false }
            if state.available > 0 {
                state.available -= 1
                return true
            }
            return nil
        }
        if let fast { return fast }
        let id = state.withLock { state -> UInt64 in
            state.nextId += 1
            return state.nextId
        }
        let timer = Task {
            guard (try? await self.clock.sleep(for: timeout)) != nil else { return }
            self.expire(id)
        }
        defer { timer.cancel() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    if Task.isCancelled || state.expiredEarly.remove(id) != nil || state.closed { return true }
                    if state.available > 0 {
                        state.available -= 1
                        continuation.resume(returning: true)
                        return false
                    }
                    state.waiters.append((id, continuation))
                    return false
                }
                if resumeNow { continuation.resume(returning: false) }
            }
        } onCancel: {
            self.expire(id)
        }
    }

    /// Returns a permit, handing it to the oldest waiter if there is one.
    func release() {
        let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            if state.waiters.isEmpty || state.closed {
                state.available += 1
                return nil
            }
            return state.waiters.removeFirst().continuation
        }
        waiter?.resume(returning: true)
    }

    /// Graceful shutdown: every waiting and later ``acquire(timeout:)`` returns false. Permits still
    /// come back through ``release()``, but none is handed out again.
    func close() {
        let waiters = state.withLock { state in
            state.closed = true
            defer { state.waiters = [] }
            return state.waiters.map(\.continuation)
        }
        for waiter in waiters { waiter.resume(returning: false) }
    }

    private func expire(_ id: UInt64) {
        let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else {
                state.expiredEarly.insert(id)
                return nil
            }
            return state.waiters.remove(at: index).continuation
        }
        waiter?.resume(returning: false)
    }
}
