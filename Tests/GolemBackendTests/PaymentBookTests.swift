import Foundation
import GolemJobs
import Testing
@testable import GolemBackend

/// The payments seam's rules, without yagna: when a reservation is made, moved and freed.
@Suite struct PaymentBookTests {
    let start = ContinuousClock.now

    @Test func aSignedAgreementTakesItsNegotiationsReservationAndIsOwed() throws {
        var book = PaymentBook(budget: 10)
        try book.reserve(3, for: "negotiation-1")
        book.signed("agreement-1", reservation: "negotiation-1")
        #expect(book.ledger.reservations == ["agreement-1": 3])
        #expect(book.isOwed("agreement-1"))
        #expect(book.ledger.available == 7)
    }

    @Test func anEndedAgreementKeepsItsReservationUntilInvoiceWaitThenFreesIt() throws {
        var book = PaymentBook(budget: 10)
        try book.reserve(3, for: "n")
        book.signed("agreement-1", reservation: "n")
        book.terminated("agreement-1", at: start)
        book.stopWaiting(now: start + .seconds(3599), invoiceWait: .seconds(3600))
        #expect(book.ledger.reserved == 3)
        book.stopWaiting(now: start + .seconds(3600), invoiceWait: .seconds(3600))
        #expect(book.ledger.reserved == 0)
        #expect(book.awaitingInvoice.isEmpty)
        // a late invoice is still ours to pay
        #expect(book.isOwed("agreement-1"))
    }

    @Test func anAgreementYagnaDoesNotKnowFreesItsReservationAtOnce() throws {
        var book = PaymentBook(budget: 10)
        try book.reserve(3, for: "n")
        book.signed("agreement-1", reservation: "n")
        book.unknown("agreement-1")
        #expect(book.ledger.reserved == 0)
        #expect(book.ledger.available == 10)
        #expect(!book.isOwed("agreement-1"))
        #expect(book.awaitingInvoice.isEmpty)
    }

    @Test func anInvoiceSettlesTheAgreementAtOnce() throws {
        var book = PaymentBook(budget: 10)
        try book.reserve(3, for: "n")
        book.signed("agreement-1", reservation: "n")
        book.terminated("agreement-1", at: start)
        book.settled("agreement-1", accepted: Decimal(string: "1.5")!)
        #expect(book.ledger.reserved == 0)
        #expect(!book.isOwed("agreement-1"))
        #expect(book.awaitingInvoice.isEmpty)
        #expect(book.spent.total == Decimal(string: "1.5")!)
    }

    @Test func aRefusedInvoiceCostsWhatItsAcceptedNotesPromised() throws {
        var book = PaymentBook(budget: 10)
        try book.reserve(3, for: "n")
        book.signed("agreement-1", reservation: "n")
        book.acceptedDebitNote(agreementId: "agreement-1", activityId: "a", amount: Decimal(string: "0.25")!)
        book.settled("agreement-1", accepted: nil)
        #expect(book.spent.total == Decimal(string: "0.25")!)
        #expect(book.ledger.reserved == 0 && !book.isOwed("agreement-1"))
    }

    @Test func aFailedSigningFreesTheAgreementsReservationOnlyWhenNeverApproved() throws {
        var book = PaymentBook(budget: 10)
        try book.reserve(3, for: "n1")
        book.signed("agreement-1", reservation: "n1")
        book.signingFailed(reservation: "n1", agreementId: "agreement-1", approved: false)
        #expect(book.ledger.reserved == 0)

        try book.reserve(2, for: "n2")
        book.signed("agreement-2", reservation: "n2")
        book.signingFailed(reservation: "n2", agreementId: "agreement-2", approved: true)
        // approved: billed until its invoice, so the reservation waits for the termination's clock
        #expect(book.ledger.reservations == ["agreement-2": 2])
    }

    @Test func anEndedAgreementWithoutAReservationIsNotAwaited() {
        var book = PaymentBook(budget: 10)
        book.recovered(["agreement-old"])
        book.terminated("agreement-old", at: start)
        #expect(book.awaitingInvoice.isEmpty)
        #expect(book.isOwed("agreement-old"))
    }
}
