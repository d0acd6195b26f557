import Foundation

extension GolemBackend {
    /// The rental pool and the budget at one moment, for the dashboard. Read-only.
    public struct PoolSnapshot: Sendable, Hashable {
        /// Rentals kept idle for reuse.
        public var idle: Int
        /// Rentals lent to a job now.
        public var lent: Int
        /// Rentals being negotiated or started (for a job, or to fill the pool to its minimum).
        public var creating: Int
        /// Agreements held (idle and lent rentals).
        public var agreements: Int
        /// The allocation's total, GLM.
        public var budget: Decimal
        /// The part of it reserved by agreements and invoices still to come, GLM.
        public var reserved: Decimal
        /// Debit notes and invoices this process accepted, GLM (``SpendingTally``).
        public var spent: Decimal
    }

    /// The pool and budget now: the pool's figures read under one lock so they agree with each other
    /// (``poolSize`` reads them one at a time), then the budget's under the payments lock.
    public func poolSnapshot() -> PoolSnapshot {
        let (idle, size, agreements) = rentals.withLock { ($0.pool.idle.count, $0.pool.size, $0.leases.count) }
        let (budget, reserved, spent) = payments.withLock { ($0.ledger.total, $0.ledger.reserved, $0.spent.total) }
        return PoolSnapshot(
            idle: idle, lent: max(0, agreements - idle), creating: max(0, size - agreements), agreements: agreements,
            budget: budget, reserved: reserved, spent: spent
        )
    }
}
