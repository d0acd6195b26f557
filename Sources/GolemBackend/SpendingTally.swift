import Foundation

/// What this backend has accepted to pay, in GLM, for the dashboard's "GLM spent". Pure; the backend
/// holds it under its lock and feeds it from the payment loop.
///
/// A debit note's amount is its activity's running total, not an increment, so an agreement counts
/// the latest accepted note of each of its activities until its invoice, which replaces them. A
/// refused invoice settles the agreement at what its accepted notes already promised. Settled
/// agreements fold into one sum, so the tally stays small however long the bridge runs. It counts
/// what this process accepted: documents an earlier run accepted are not read back.
struct SpendingTally: Sendable, Hashable {
    /// Agreements still billing: activity (or "" when the note names none) → latest accepted total.
    private var billing: [String: [String: Decimal]] = [:]
    /// Agreements whose invoice was accepted or refused.
    private var settled: Decimal = 0

    /// All accepted so far.
    var total: Decimal {
        billing.values.reduce(settled) { sum, activities in activities.values.reduce(sum, +) }
    }

    /// An accepted debit note: `amount` is its activity's total so far (a late, lower one changes nothing).
    mutating func acceptedDebitNote(agreementId: String, activityId: String?, amount: Decimal) {
        let activity = activityId ?? ""
        let before = billing[agreementId]?[activity] ?? 0
        billing[agreementId, default: [:]][activity] = max(before, amount)
    }

    /// An accepted invoice: the agreement costs `amount` in all, whatever its notes said.
    mutating func acceptedInvoice(agreementId: String, amount: Decimal) {
        billing.removeValue(forKey: agreementId)
        settled += amount
    }

    /// A refused invoice: the agreement costs what its accepted notes promised.
    mutating func refusedInvoice(agreementId: String) {
        settled += billing.removeValue(forKey: agreementId)?.values.reduce(0, +) ?? 0
    }
}
