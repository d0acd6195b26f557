import Foundation
import GolemJobs

/// The global cap: every live agreement reserves the most it can cost; a new one is signed only if
/// its reservation fits in what the allocation has left. Pure; the backend holds it under a lock.
public struct BudgetLedger: Sendable, Hashable {
    /// The allocation's total, in GLM.
    public private(set) var total: Decimal
    /// Reserved per key (an agreement, or a negotiation before its agreement exists).
    public private(set) var reservations: [String: Decimal] = [:]

    public init(total: Decimal) {
        self.total = total
    }

    public var reserved: Decimal { reservations.values.reduce(0, +) }
    public var available: Decimal { total - reserved }

    /// Reserves `amount` under `key`, or throws `budget_exceeded` naming what is left.
    public mutating func reserve(_ amount: Decimal, for key: String) throws(JobError) {
        guard amount >= 0 else { throw JobError(.internal, "negative reservation \(amount) for \(key)") }
        guard amount <= available else {
            throw JobError(.budgetExceeded, "the rental may cost up to \(Self.text(amount)) GLM but only \(Self.text(available)) of the budget of \(Self.text(total)) GLM is left")
        }
        reservations[key] = amount
    }

    /// Moves a reservation to a new key (negotiation → agreement).
    public mutating func rename(_ key: String, to newKey: String) {
        if let amount = reservations.removeValue(forKey: key) { reservations[newKey] = amount }
    }

    /// Frees a reservation (the agreement was paid or never signed).
    public mutating func release(_ key: String) {
        reservations.removeValue(forKey: key)
    }

    /// A reservation for at most `cost` GLM, rounded up to 18 decimals (GLM's precision).
    public static func amount(_ cost: Double) -> Decimal {
        var value = Decimal(cost)
        var rounded = Decimal()
        NSDecimalRound(&rounded, &value, 18, .up)
        return rounded
    }

    static func text(_ value: Decimal) -> String {
        var value = value
        var rounded = Decimal()
        NSDecimalRound(&rounded, &value, 6, .plain)
        return "\(rounded)"
    }
}
