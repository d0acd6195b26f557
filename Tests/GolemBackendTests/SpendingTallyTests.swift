import Foundation
import Testing
@testable import GolemBackend

@Suite struct SpendingTallyTests {
    @Test func aDebitNoteCountsAsItsActivitysRunningTotalNotAnIncrement() {
        var tally = SpendingTally()
        tally.acceptedDebitNote(agreementId: "a", activityId: "x", amount: 0.1)
        tally.acceptedDebitNote(agreementId: "a", activityId: "x", amount: 0.3)
        #expect(tally.total == 0.3)
        // Another activity of the agreement, and another agreement, add their own totals.
        tally.acceptedDebitNote(agreementId: "a", activityId: "y", amount: 0.2)
        tally.acceptedDebitNote(agreementId: "b", activityId: nil, amount: 0.05)
        #expect(tally.total == Decimal(string: "0.55")!)
        // A note accepted out of order, lower than one already counted, changes nothing.
        tally.acceptedDebitNote(agreementId: "a", activityId: "x", amount: 0.2)
        #expect(tally.total == Decimal(string: "0.55")!)
    }

    @Test func anAcceptedInvoiceReplacesItsAgreementsNotes() {
        var tally = SpendingTally()
        tally.acceptedDebitNote(agreementId: "a", activityId: "x", amount: 0.3)
        tally.acceptedDebitNote(agreementId: "b", activityId: "z", amount: 0.1)
        tally.acceptedInvoice(agreementId: "a", amount: Decimal(string: "0.35")!)
        #expect(tally.total == Decimal(string: "0.45")!)
        // An invoice without notes before it counts whole.
        tally.acceptedInvoice(agreementId: "c", amount: 1)
        #expect(tally.total == Decimal(string: "1.45")!)
    }

    @Test func aRefusedInvoiceKeepsWhatTheAcceptedNotesPromised() {
        var tally = SpendingTally()
        tally.acceptedDebitNote(agreementId: "a", activityId: "x", amount: 0.3)
        tally.refusedInvoice(agreementId: "a")
        #expect(tally.total == 0.3)
        tally.refusedInvoice(agreementId: "never-billed")
        #expect(tally.total == 0.3)
    }
}
