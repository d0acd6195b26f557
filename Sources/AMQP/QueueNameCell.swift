import Synchronization

/// The consumer's current queue name, awaitable until the first successful consume.
final class QueueNameCell: Sendable {
    private struct State {
        var name: String?
        var ended = false
        var waiters: [CheckedContinuation<String, Never>] = []
    }

    private let state = Mutex(State())

    func set(_ name: String) {
        let waiters = state.withLock { s in
            s.name = name
            defer { s.waiters = [] }
            return s.waiters
        }
        for waiter in waiters { waiter.resume(returning: name) }
    }

    /// The consumer ended; waiters get the last known name or "".
    func end() {
        let (name, waiters) = state.withLock { s in
            s.ended = true
            defer { s.waiters = [] }
            return (s.name ?? "", s.waiters)
        }
        for waiter in waiters { waiter.resume(returning: name) }
    }

    var value: String {
        get async {
            await withCheckedContinuation { (continuation: CheckedContinuation<String, Never>) in
                let ready: String? = state.withLock { s in
                    if let name = s.name { return name }
                    if s.ended { return "" }
                    s.waiters.append(continuation)
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }
    }
}
