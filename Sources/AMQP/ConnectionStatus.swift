import Synchronization

/// What a connection thread tells the rest of the process about its connection: whether it is up
/// (for a consumer: consuming), and each reconnect after a loss. Written by that thread only.
final class ConnectionStatus: Sendable {
    private let up = Atomic<Bool>(false)
    private let onReconnect: @Sendable () -> Void

    init(onReconnect: @escaping @Sendable () -> Void) {
        self.onReconnect = onReconnect
    }

    var isUp: Bool { up.load(ordering: .relaxed) }

    /// The connection is ready; `reconnect` when an earlier one of this client was lost.
    func connected(reconnect: Bool) {
        up.store(true, ordering: .relaxed)
        if reconnect { onReconnect() }
    }

    func disconnected() {
        up.store(false, ordering: .relaxed)
    }
}
