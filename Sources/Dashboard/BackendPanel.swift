/// What the dashboard shows of the backend beside the jobs: on the Golem backend, the rental pool,
/// agreements and GLM against the budget. A read-only snapshot the backend gives on request.
public struct BackendPanel: Sendable, Hashable {
    /// Rentals ready for a job, lent to a job, and being created.
    public var idle: Int
    public var lent: Int
    public var creating: Int
    /// Agreements the backend holds now.
    public var agreements: Int
    /// GLM: the budget, the part reserved by running jobs, and what was spent so far: the debit notes
    /// and invoices accepted (`nil` when the backend does not count it).
    public var budget: Double
    public var reserved: Double
    public var spent: Double?

    public init(idle: Int, lent: Int, creating: Int, agreements: Int, budget: Double, reserved: Double, spent: Double?) {
        self.idle = idle
        self.lent = lent
        self.creating = creating
        self.agreements = agreements
        self.budget = budget
        self.reserved = reserved
        self.spent = spent
    }
}
