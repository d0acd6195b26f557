import Foundation

/// The agent's bookkeeping: approved agreements with their payment terms, each agreement's
/// activities and what they cost, and debit notes awaiting acceptance. An actor; no I/O.
actor AgreementBook {
    struct Agreement {
        var terms: PaymentTerms
        var activities: [String] = []
        var finalAmounts: [String: Decimal] = [:]
        var terminated = false
        var invoiced = false
    }

    private var agreements: [String: Agreement] = [:]
    private var handles: [String: ActivityHandle] = [:]
    private var pendingNotes: [String: String] = [:]   // debit note id -> agreement id
    private var acceptedNotes: Set<String> = []

    func approved(_ agreementId: String, terms: PaymentTerms) {
        if agreements[agreementId] == nil { agreements[agreementId] = Agreement(terms: terms) }
    }

    func terms(of agreementId: String) -> PaymentTerms? { agreements[agreementId]?.terms }

    func isLive(_ agreementId: String) -> Bool { agreements[agreementId].map { !$0.terminated } ?? false }

    func add(activity activityId: String, agreementId: String, handle: ActivityHandle) {
        handles[activityId] = handle
        agreements[agreementId]?.activities.append(activityId)
    }

    func handle(_ activityId: String) -> ActivityHandle? { handles[activityId] }

    /// Removes the activity's handle (once) and records its final amount.
    func finish(activity activityId: String, amount: Decimal) -> ActivityHandle? {
        guard let handle = handles.removeValue(forKey: activityId) else { return nil }
        agreements[handle.exeUnit.agreementId]?.finalAmounts[activityId] = amount
        return handle
    }

    func activities(of agreementId: String) -> [String] {
        agreements[agreementId]?.activities.filter { handles[$0] != nil } ?? []
    }

    var allActivities: [String] { Array(handles.keys) }

    /// Marks the agreement terminated; returns what to invoice the first time (nil after, or
    /// when there is nothing to invoice).
    func terminated(_ agreementId: String) -> (activityIds: [String], amount: Decimal)? {
        guard var agreement = agreements[agreementId], !agreement.invoiced else { return nil }
        agreement.terminated = true
        agreement.invoiced = true
        agreements[agreementId] = agreement
        guard !agreement.activities.isEmpty else { return nil }
        return (agreement.activities, agreement.finalAmounts.values.reduce(0, +))
    }

    func sent(note: String, agreementId: String) { pendingNotes[note] = agreementId }

    func accepted(note: String) {
        if pendingNotes[note] != nil { acceptedNotes.insert(note) }
    }

    /// Whether the note was accepted; forgets it either way (the deadline checks once).
    func settle(note: String) -> Bool {
        pendingNotes[note] = nil
        return acceptedNotes.remove(note) != nil
    }

    /// Drops everything kept for a finished agreement (bounded memory over a long run).
    func forget(_ agreementId: String) {
        agreements[agreementId] = nil
        pendingNotes = pendingNotes.filter { $0.value != agreementId }
    }
}
