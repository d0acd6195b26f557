import Synchronization

/// Whether the journal answered the bridge's last write or heartbeat. A bridge that cannot journal
/// takes no work (an accept that fails puts the request back) and says so in its readiness.
final class JournalHealth: Sendable {
    private let available = Atomic(true)

    var isAvailable: Bool { available.load(ordering: .relaxed) }

    func answered() { available.store(true, ordering: .relaxed) }

    func failed() { available.store(false, ordering: .relaxed) }
}
