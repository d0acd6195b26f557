import Foundation
import Testing
@testable import LocalProvider

@Suite struct LinearPricingTests {
    @Test func amountIsStartPlusCpuPlusDuration() {
        let pricing = LinearPricing(start: Decimal(string: "0.5")!, perCPUSecond: Decimal(string: "0.001")!, perEnvSecond: Decimal(string: "0.0001")!)
        let amount = pricing.amount(for: Usage(cpuSeconds: 10, durationSeconds: 100))
        #expect(LinearPricing.text(amount) == "0.52")
    }

    @Test func secondsAreExactMilliseconds() {
        #expect(Usage.seconds(.milliseconds(1234)) == Decimal(string: "1.234")!)
        #expect(LinearPricing.text(LinearPricing().amount(for: Usage(cpuSeconds: Usage.seconds(.milliseconds(1500)), durationSeconds: 3)))
            == "0.00021")
    }
}
