import Synchronization

/// Host uids for sandboxes, one per work directory at a time.
///
/// RLIMIT_NPROC counts the processes of a uid across the whole host, so sandboxes that shared one uid
/// shared one process budget: a fork bomb in one job kept every other job from starting a process.
/// With a uid of its own per work directory, each job's `maxProcesses` is its own. The pool is
/// process-wide because uids are a host-wide resource.
final class HostIdPool: Sendable {
    static let shared = HostIdPool(range: 200_000...203_999)

    let range: ClosedRange<UInt32>
    private let state: Mutex<(next: UInt32, used: Set<UInt32>)>

    init(range: ClosedRange<UInt32>) {
        self.range = range
        state = Mutex((range.lowerBound, []))
    }

    /// A uid no other live work directory has, or `nil` when all are in use.
    func acquire() -> UInt32? {
        state.withLock { state in
            guard state.used.count < range.count else { return nil }
            var candidate = state.next
            while state.used.contains(candidate) {
                candidate = candidate == range.upperBound ? range.lowerBound : candidate + 1
            }
            state.used.insert(candidate)
            state.next = candidate == range.upperBound ? range.lowerBound : candidate + 1
            return candidate
        }
    }

    func release(_ uid: UInt32) {
        _ = state.withLock { $0.used.remove(uid) }
    }

    func contains(_ uid: UInt32) -> Bool { range.contains(uid) }
}
