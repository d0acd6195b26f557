import Foundation
import GolemJobs
import Testing
@testable import GolemBackend

@Suite struct BudgetLedgerTests {
    @Test func reservationsBeyondTheTotalAreBudgetExceeded() throws {
        var ledger = BudgetLedger(total: 1)
        try ledger.reserve(0.6, for: "a")
        let error = #expect(throws: JobError.self) { try ledger.reserve(0.5, for: "b") }
        #expect(error?.code == .budgetExceeded)
        #expect(error?.message.contains("0.4") == true)
        #expect(ledger.reserved == 0.6)
        try ledger.reserve(0.4, for: "b")
        #expect(ledger.available == 0)
    }

    @Test func releasingAndRenamingFreeAndMoveTheMoney() throws {
        var ledger = BudgetLedger(total: 1)
        try ledger.reserve(1, for: "negotiation")
        ledger.rename("negotiation", to: "agreement")
        #expect(ledger.reservations == ["agreement": 1])
        ledger.release("agreement")
        #expect(ledger.available == 1)
    }

    @Test func amountsRoundUpNeverDown() {
        #expect(BudgetLedger.amount(0.1) >= Decimal(string: "0.1")!)
        #expect(BudgetLedger.amount(0) == 0)
    }
}
