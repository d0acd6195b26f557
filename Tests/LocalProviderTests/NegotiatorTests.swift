import Foundation
import JSONModel
import Testing
import Yagna
@testable import LocalProvider

@Suite struct NegotiatorTests {
    let configuration = ProviderConfiguration(yagna: YagnaConfiguration(appKey: "k"), subnet: "public", paymentPlatform: "erc20-holesky-tglm")
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func demand(_ extra: [String: JSONValue] = [:], expiresIn seconds: Double = 1800) -> [String: JSONValue] {
        var properties: [String: JSONValue] = [
            "golem.node.debug.subnet": .string("public"),
            "golem.srv.comp.expiration": .int(Int64((now.timeIntervalSince1970 + seconds) * 1000)),
            "golem.com.payment.platform.erc20-holesky-tglm.address": .string("0xabc"),
        ]
        properties.merge(extra) { $1 }
        return properties
    }

    @Test func countersAMatchingDemand() {
        #expect(Negotiator(configuration: configuration).decide(on: demand(), now: now) == .counter)
    }

    @Test func rejectsWhatItCannotServe() {
        let negotiator = Negotiator(configuration: configuration)
        #expect(negotiator.decide(on: demand(["golem.node.debug.subnet": .string("other")]), now: now) == .reject("subnet other is not public"))
        #expect(negotiator.decide(on: demand(["golem.com.payment.chosen-platform": .string("erc20-polygon-glm")]), now: now)
            == .reject("payment platform erc20-polygon-glm is not offered; use erc20-holesky-tglm"))
        if case .counter = negotiator.decide(on: demand(expiresIn: 60), now: now) { Issue.record("a 1-minute agreement was countered") }
        if case .counter = negotiator.decide(on: demand(expiresIn: 11 * 3600), now: now) { Issue.record("an 11-hour agreement was countered") }
        var noAddress = demand()
        noAddress["golem.com.payment.platform.erc20-holesky-tglm.address"] = nil
        if case .counter = negotiator.decide(on: noAddress, now: now) { Issue.record("a demand without a payer address was countered") }
    }

    @Test func anAbsurdExpirationIsRejectedNotTrapped() {
        let negotiator = Negotiator(configuration: configuration)
        for ms in [1e300, -1e300] {
            let decision = negotiator.decide(on: demand(["golem.srv.comp.expiration": .double(ms)]), now: now)
            guard case .reject(let why) = decision else { Issue.record("expiration \(ms) ms was countered"); continue }
            #expect(why.contains("agreement expiration in"))
        }
    }

    @Test func paymentTermsComeFromTheDemandOrDefaults() {
        let negotiated = PaymentTerms(demand: demand(["golem.com.scheme.payu.debit-note.interval-sec?": .int(2), "golem.com.payment.debit-notes.accept-timeout?": .int(30)]), configuration: configuration)
        #expect(negotiated.debitNoteInterval == .seconds(2) && negotiated.acceptTimeout == .seconds(30))
        let defaults = PaymentTerms(demand: demand(), configuration: configuration)
        #expect(defaults.debitNoteInterval == configuration.debitNoteInterval && defaults.acceptTimeout == configuration.debitNoteAcceptTimeout)
    }

    @Test func offerCarriesLinearPricingAndTheNonce() {
        let offer = Offer(configuration: configuration, identity: "0xprov", nonce: "n1", now: now)
        #expect(offer.properties["golem.com.pricing.model"] == .string("linear"))
        #expect(offer.properties["golem.com.usage.vector"] == .array([.string("golem.usage.cpu_sec"), .string("golem.usage.duration_sec")]))
        #expect(offer.properties["golem.com.pricing.model.linear.coeffs"] == .array([.double(0.0001), .double(0.00002), .double(0)]))
        #expect(offer.properties["golem.com.payment.platform.erc20-holesky-tglm.address"] == .string("0xprov"))
        #expect(offer.properties["golem.runtime.name"] == .string("vm") && offer.properties["golem.com.scheme"] == .string("payu"))
        #expect(offer.nodeName == "golem-bridge-local-provider-n1")
    }

    @Test func offerWritesCountsAsIntegers() throws {
        let offer = Offer(configuration: configuration, identity: "0xprov", nonce: "n1", now: now)
        #expect(offer.properties["golem.inf.cpu.threads"] == .int(2))
        #expect(offer.properties["golem.com.scheme.payu.payment-timeout-sec?"] == .int(120))
        #expect(offer.properties["golem.srv.comp.expiration"] == .int(1_800_003_600_000))
        let text = String(decoding: try JSONEncoder().encode(offer), as: UTF8.self)
        #expect(text.contains(#""golem.com.scheme.payu.debit-note.interval-sec?":120"#))
        #expect(text.contains(#""golem.srv.comp.expiration":1800003600000"#))
        #expect(text.contains(#""golem.inf.mem.gib":4"#), "a whole float as an integer too")
    }

    @Test func paymentTermsKeepDemandValuesWithinBounds() {
        func terms(_ interval: Double, _ accept: Double) -> PaymentTerms {
            PaymentTerms(demand: demand([
                "golem.com.scheme.payu.debit-note.interval-sec?": .double(interval),
                "golem.com.payment.debit-notes.accept-timeout?": .double(accept),
            ]), configuration: configuration)
        }
        #expect(terms(2, 3).debitNoteInterval == .seconds(2))
        #expect(terms(2, 3).acceptTimeout == .seconds(3))
        #expect(terms(0.001, 0.5).debitNoteInterval == .seconds(1))
        #expect(terms(0.001, 0.5).acceptTimeout == .seconds(1))
        #expect(terms(1e300, 1e300).debitNoteInterval == .seconds(86_400))
        #expect(terms(1e300, 1e300).acceptTimeout == .seconds(86_400))
        // 1e400 is valid JSON and reads as infinity.
        let huge = PaymentTerms(demand: demand(["golem.com.payment.debit-notes.accept-timeout?": .number("1e400")]), configuration: configuration)
        #expect(huge.acceptTimeout == .seconds(86_400))
        #expect(terms(0, -5).debitNoteInterval == configuration.debitNoteInterval, "not negotiated: the agent's default")
        #expect(terms(0, -5).acceptTimeout == configuration.debitNoteAcceptTimeout)
    }
}
