import Foundation

/// The rental pool seam: the pool's decisions and the rentals it holds. ``GolemBackend`` holds it
/// under a lock of its own (`rentals`), never while holding another; what is decided here is acted
/// on (I/O) after the lock is released.
struct Rentals {
    var pool: RentalPoolState<String>
    /// Rentals held, idle or lent, by agreement; a rental leaves when it is ended.
    var leases: [String: Lease] = [:]
    /// Jobs waiting for a release or a cleanup (``RentalPoolState/Acquire/wait``).
    var waiters: [UUID: CheckedContinuation<Void, Never>] = [:]
    /// Agreements whose provider sent a debit note over the agreed prices, and why: ended at once
    /// (``GolemBackend/condemn(_:why:)``), never lent again; a job running on one fails naming this.
    /// Forgotten when the agreement's invoice is settled.
    var condemned: [String: String] = [:]
    /// Shutting down: nothing is lent, kept or filled any more. Under this lock so a release never
    /// lands in a pool that shutdown has drained.
    var closed = false

    init(policy: RentalPoolPolicy) {
        pool = RentalPoolState(policy: policy)
    }

    /// The waiting jobs, removed: the caller resumes them after the lock is released.
    mutating func takeWaiters() -> [CheckedContinuation<Void, Never>] {
        defer { waiters = [:] }
        return Array(waiters.values)
    }
}
