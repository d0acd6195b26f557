import Foundation
import GolemJobs

/// The payments seam: the budget and what is owed to whom. Pure; ``GolemBackend`` holds it under a
/// lock of its own (`payments`), never while holding another.
///
/// The budget's invariants live here: an agreement's reservation is made before it is signed
/// (under a negotiation key), moves to the agreement when it exists, and is freed when its invoice
/// is settled, when it was never approved, or `invoiceWait` after it ended without an invoice.
struct PaymentBook: Sendable {
    /// Reservations against the allocation's total.
    private(set) var ledger: BudgetLedger
    /// Agreements whose debit notes and invoices we accept (ours, live or awaiting the invoice).
    private(set) var owed: Set<String> = []
    /// Terminated agreements whose invoice has not come yet, and when they ended. Their budget
    /// reservation is freed after `invoiceWait` (a late invoice is still accepted).
    private(set) var awaitingInvoice: [String: ContinuousClock.Instant] = [:]
    /// What the payment loop accepted, for the dashboard.
    private(set) var spent = SpendingTally()

    init(budget: Decimal) {
        ledger = BudgetLedger(total: budget)
    }

    /// Agreements an earlier run signed and whose invoice has not been settled: still ours to pay.
    mutating func recovered(_ agreements: [String]) {
        owed.formUnion(agreements)
    }

    /// Reserves the most a rental may cost under `negotiation`, before its agreement exists, or
    /// throws `budget_exceeded`.
    mutating func reserve(_ amount: Decimal, for negotiation: String) throws(JobError) {
        try ledger.reserve(amount, for: negotiation)
    }

    /// The agreement exists: `reservation` becomes its own, and its payment documents are ours.
    mutating func signed(_ agreementId: String, reservation: String) {
        ledger.rename(reservation, to: agreementId)
        owed.insert(agreementId)
    }

    /// Setting up a rental failed: the negotiation's reservation is freed, and the agreement's when
    /// it was never approved (nothing to pay). An approved one keeps it until ``terminated(_:at:)``
    /// and its invoice.
    mutating func signingFailed(reservation: String, agreementId: String?, approved: Bool) {
        ledger.release(reservation)
        if let agreementId, !approved { ledger.release(agreementId) }
    }

    /// The agreement was terminated `now`: its reservation waits for the invoice, at most `invoiceWait`.
    mutating func terminated(_ agreementId: String, at now: ContinuousClock.Instant) {
        if ledger.reservations[agreementId] != nil { awaitingInvoice[agreementId] = now }
    }

    /// yagna does not know the agreement: nothing was rented, nothing will be billed, so its
    /// reservation is freed now rather than held for an invoice that cannot come.
    mutating func unknown(_ agreementId: String) {
        owed.remove(agreementId)
        awaitingInvoice.removeValue(forKey: agreementId)
        ledger.release(agreementId)
    }

    /// Frees the reservations of agreements that ended `invoiceWait` or longer before `now` and
    /// whose invoice has not come (it is still accepted if it does).
    mutating func stopWaiting(now: ContinuousClock.Instant, invoiceWait: Duration) {
        for (agreementId, ended) in awaitingInvoice where now - ended >= invoiceWait {
            ledger.release(agreementId)
            awaitingInvoice.removeValue(forKey: agreementId)
        }
    }

    /// Whether payment documents of `agreementId` are ours to check and accept.
    func isOwed(_ agreementId: String) -> Bool {
        owed.contains(agreementId)
    }

    /// A debit note was accepted: `amount` is its activity's total so far.
    mutating func acceptedDebitNote(agreementId: String, activityId: String?, amount: Decimal) {
        spent.acceptedDebitNote(agreementId: agreementId, activityId: activityId, amount: amount)
    }

    /// The agreement's invoice came: paid (`accepted`, its amount) or refused (`nil`), the agreement
    /// is settled (a provider issues one invoice per agreement): its reservation is freed and it is
    /// no longer ours.
    mutating func settled(_ agreementId: String, accepted: Decimal?) {
        if let accepted {
            spent.acceptedInvoice(agreementId: agreementId, amount: accepted)
        } else {
            spent.refusedInvoice(agreementId: agreementId)
        }
        ledger.release(agreementId)
        owed.remove(agreementId)
        awaitingInvoice.removeValue(forKey: agreementId)
    }
}
