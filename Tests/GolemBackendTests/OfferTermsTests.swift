import Foundation
import GolemJobs
import JSONModel
import Testing
import Yagna
@testable import GolemBackend

@Suite struct OfferTermsTests {
    static func offer(coeffs: [Double], vector: [String] = ["golem.usage.cpu_sec", "golem.usage.duration_sec"], threads: Int64 = 4) -> [String: JSONValue] {
        [
            "golem.com.pricing.model": .string("linear"),
            "golem.com.pricing.model.linear.coeffs": .array(coeffs.map { .double($0) }),
            "golem.com.usage.vector": .array(vector.map { .string($0) }),
            "golem.inf.cpu.threads": .int(threads),
            "golem.node.id.name": .string("prov-1"),
        ]
    }

    @Test func pricesAreReadByTheUsageVector() throws {
        let terms = try OfferTerms(properties: Self.offer(coeffs: [0.0001, 0.00002, 0.5]))
        #expect(terms.cpuPerSecond == 0.0001)
        #expect(terms.envPerSecond == 0.00002)
        #expect(terms.startPrice == 0.5)
        #expect(terms.cpuThreads == 4)
        #expect(terms.providerName == "prov-1")
        // The vector's order decides, not a fixed position.
        let swapped = try OfferTerms(properties: Self.offer(coeffs: [0.00002, 0.0001, 0.5], vector: ["golem.usage.duration_sec", "golem.usage.cpu_sec"]))
        #expect(swapped.cpuPerSecond == 0.0001 && swapped.envPerSecond == 0.00002)
    }

    @Test func aBrokenOfferIsRefusedWithTheReason() {
        #expect(throws: OfferTermsError.self) { try OfferTerms(properties: [:]) }
        let error = #expect(throws: OfferTermsError.self) { try OfferTerms(properties: Self.offer(coeffs: [0.1, 0.2])) }
        #expect(error?.description.contains("coefficients") == true)
        #expect(throws: OfferTermsError.self) { try OfferTerms(properties: Self.offer(coeffs: [-1, 0.1, 0.2])) }
    }

    @Test func anOfferWithAnImpossibleThreadCountIsRefusedNotTrapped() throws {
        for threads: JSONValue in [.double(1e300), .double(-1), .int(0), .double(2.5), .string("4")] {
            var properties = Self.offer(coeffs: [0.1, 0.2, 0.3])
            properties["golem.inf.cpu.threads"] = threads
            let error = #expect(throws: OfferTermsError.self, "\(threads)") { try OfferTerms(properties: properties) }
            #expect(error?.description.contains("golem.inf.cpu.threads") == true)
        }
        var properties = Self.offer(coeffs: [0.1, 0.2, 0.3])
        properties["golem.inf.cpu.threads"] = nil
        #expect(try OfferTerms(properties: properties).cpuThreads == 1)
    }

    @Test func linearLimitsAreCheckedPerHour() throws {
        let terms = try OfferTerms(properties: Self.offer(coeffs: [0.0001, 0.00002, 0.1]))  // cpu 0.36/h, env 0.072/h
        #expect(terms.violation(of: .linear(maxStartPrice: 0.1, maxCpuPerHourPrice: 0.36, maxEnvPerHourPrice: 0.072), hours: 1) == nil)
        #expect(terms.violation(of: .linear(maxStartPrice: 0.09, maxCpuPerHourPrice: 1, maxEnvPerHourPrice: 1), hours: 1)?.contains("start") == true)
        #expect(terms.violation(of: .linear(maxStartPrice: 1, maxCpuPerHourPrice: 0.35, maxEnvPerHourPrice: 1), hours: 1)?.contains("CPU") == true)
        #expect(terms.violation(of: .linear(maxStartPrice: 1, maxCpuPerHourPrice: 1, maxEnvPerHourPrice: 0.07), hours: 1)?.contains("env") == true)
        #expect(terms.violation(of: nil, hours: 1) == nil)
    }

    @Test func burnRateCountsEveryThreadAndTheStartFee() throws {
        // 4 threads × 0.36 + 0.072 = 1.512/h, + 0.1 start over 1 h = 1.612/h
        let terms = try OfferTerms(properties: Self.offer(coeffs: [0.0001, 0.00002, 0.1]))
        #expect(abs(terms.maxCost(hours: 1) - 1.612) < 1e-9)
        #expect(terms.violation(of: .burnRate(avgGlmPerHour: 1.62), hours: 1) == nil)
        #expect(terms.violation(of: .burnRate(avgGlmPerHour: 1.6), hours: 1) != nil)
    }
}
