import Foundation
import Testing
@testable import GolemBackend

@Suite struct PaymentCheckTests {
    // cpu 0.0001/s, env 0.00002/s, start 0.5; 4 threads. Per second with every thread busy: 0.00042.
    let start = Date(timeIntervalSince1970: 1_800_000_000)
    var check: PaymentCheck {
        try! PaymentCheck(properties: OfferTermsTests.offer(coeffs: [0.0001, 0.00002, 0.5]), start: start, end: start.addingTimeInterval(3600))
    }

    func at(_ seconds: TimeInterval) -> Date { start.addingTimeInterval(seconds) }

    @Test func anAmountWithinTheAgreedPricesForTheElapsedTimeFits() {
        // 100 s (+30 s skew) with every thread busy: 0.5 + 130 · 0.00042 = 0.5546.
        #expect(abs(check.cap(at: at(100)) - (0.5 + 130 * 0.00042)) < 1e-12)
        #expect(check.verdict(amount: Decimal(string: "0.5546")!, at: at(100)) == .fits)
        #expect(check.verdict(amount: Decimal(string: "0.5")!, at: at(0)) == .fits)
    }

    @Test func anAmountAboveTheAgreedPricesForTheElapsedTimeIsRefusedWithTheFigures() {
        guard case .exceeds(let why) = check.verdict(amount: Decimal(string: "0.5547")!, at: at(100)) else {
            Issue.record("an overcharge fitted")
            return
        }
        #expect(why.contains("0.5547 GLM is more than the 0.5546 GLM"))
        #expect(why.contains("130 s"))
    }

    @Test func theToleranceIsOnlyRounding() {
        let cap = Decimal(check.cap(at: at(100)))
        #expect(check.verdict(amount: cap + Decimal(string: "0.000000001")! * cap / 2, at: at(100)) == .fits)
        #expect(check.verdict(amount: cap + Decimal(string: "0.000000002")! * cap, at: at(100)) != .fits)
    }

    @Test func nothingAccruesAfterTheAgreementExpires() {
        #expect(check.cap(at: at(7200)) == check.cap(at: at(3600)))
    }

    @Test func timeBeforeTheApprovalCountsAsNoneButTheSkew() {
        #expect(abs(check.cap(at: at(-600)) - (0.5 + 30 * 0.00042)) < 1e-12)
    }

    @Test func eachActivityOfAnInvoiceMayChargeTheStartPrice() {
        #expect(check.cap(at: at(100), activities: 3) == 1.0 + check.cap(at: at(100)))
        #expect(check.verdict(amount: Decimal(string: "1.5")!, at: at(0), activities: 3) == .fits)
        #expect(check.verdict(amount: Decimal(string: "1.5")!, at: at(0), activities: 1) != .fits)
    }

    @Test func aNoteMustCostWhatItsOwnUsageCounters() {
        // Vector [cpu_sec, duration_sec]: 40 CPU seconds, 10 s → 0.5 + 0.004 + 0.0002 = 0.5042.
        #expect(check.verdict(amount: Decimal(string: "0.5042")!, at: at(100), usage: [40, 10]) == .fits)
        guard case .exceeds(let why) = check.verdict(amount: Decimal(string: "0.51")!, at: at(100), usage: [40, 10]) else {
            Issue.record("an amount above its own usage fitted")
            return
        }
        #expect(why.contains("its usage"))
    }

    @Test func usageCountersMustFitTheElapsedTime() {
        // 130 s of time fits; 4 threads give 520 CPU seconds.
        #expect(check.verdict(amount: Decimal(string: "0.55")!, at: at(100), usage: [520, 130]) == .fits)
        #expect(check.verdict(amount: Decimal(string: "0.55")!, at: at(100), usage: [40, 131]) != .fits)
        #expect(check.verdict(amount: Decimal(string: "0.55")!, at: at(100), usage: [521, 10]) != .fits)
    }

    @Test func usageInAnotherShapeIsJudgedByTimeAlone() {
        #expect(check.verdict(amount: Decimal(string: "0.55")!, at: at(100), usage: [1]) == .fits)
    }
}
