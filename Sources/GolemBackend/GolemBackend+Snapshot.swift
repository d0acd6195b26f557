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

    /// The pool and budget now, read under one lock so the figures agree with each other (``poolSize``
    /// and ``reserved`` read them one at a time).
    public func poolSnapshot() -> PoolSnapshot {
        state.withLock { state in
            let agreements = state.leases.count
            return PoolSnapshot(
                idle: state.pool.idle.count,
                lent: max(0, agreements - state.pool.idle.count),
                creating: max(0, state.pool.size - agreements),
                agreements: agreements,
                budget: state.ledger.total,
                reserved: state.ledger.reserved,
                spent: state.spent.total
            )
        }
    }
}
