import Foundation
import JSONModel
import Testing
import Yagna
@testable import LocalProvider

@Suite struct NegotiatorTests {
    let configuration = ProviderConfiguration(yagna: YagnaConfiguration(appKey: "k"), subnet: "public", paymentPlatform: "erc20-hoodi-tglm")
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    typealias Key = Negotiator.Key

    /// A demand as the bridge counters: golem-js's terms, equal to the offer's except the accept timeout.
    func demand(_ extra: [String: JSONValue] = [:], expiresIn seconds: Double = 1800) -> [String: JSONValue] {
        var properties: [String: JSONValue] = [
            Key.subnet: .string("public"),
            Key.expiration: .int(Int64((now.timeIntervalSince1970 + seconds) * 1000)),
            Key.chosenPlatform: .string("erc20-hoodi-tglm"),
            "golem.com.payment.platform.erc20-hoodi-tglm.address": .string("0xabc"),
            Key.debitNoteInterval: .int(120),
            Key.paymentTimeout: .int(120),
            Key.acceptTimeout: .int(240),
        ]
        properties.merge(extra) { $1 }
        return properties.filter { $0.value != .null }
    }

    var offer: [String: JSONValue] { Offer(configuration: configuration, identity: "0xprov", nonce: "n1", now: now).properties }

    func decide(_ demand: [String: JSONValue]) -> Negotiator.Decision {
        Negotiator(configuration: configuration).decide(on: demand, offer: offer, now: now)
    }

    func reason(_ demand: [String: JSONValue]) -> String? {
        if case .reject(let why, _) = decide(demand) { return why }
        return nil
    }

    @Test func aDemandOnTheOffersTermsIsReady() {
        #expect(decide(demand()) == .ready)
    }

    @Test func theDemandsShorterTermsAreTakenIntoTheCounter() {
        let decision = decide(demand([Key.acceptTimeout: .int(120), Key.debitNoteInterval: .int(60), Key.paymentTimeout: .int(43_200)]))
        guard case .negotiating(let counter) = decision else { Issue.record("\(decision)"); return }
        #expect(counter[Key.acceptTimeout] == .int(120))
        #expect(counter[Key.debitNoteInterval] == .int(60))
        #expect(counter[Key.paymentTimeout] == .int(43_200))
        #expect(Negotiator(configuration: configuration).decide(on: demand([Key.acceptTimeout: .int(120), Key.debitNoteInterval: .int(60), Key.paymentTimeout: .int(43_200)]), offer: counter, now: now) == .ready)
    }

    @Test func termsTheDemandLeavesOutLeaveTheOffer() {
        guard case .negotiating(let counter) = decide(demand([Key.debitNoteInterval: .null, Key.paymentTimeout: .null, Key.acceptTimeout: .null], expiresIn: 600)) else {
            Issue.record("not negotiating"); return
        }
        #expect(counter[Key.debitNoteInterval] == nil && counter[Key.paymentTimeout] == nil && counter[Key.acceptTimeout] == nil)
    }

    @Test func rejectsWhatItCannotServe() {
        #expect(reason(demand([Key.subnet: .string("other")])) == "subnet other is not public")
        #expect(reason(demand([Key.chosenPlatform: .string("erc20-polygon-glm")])) == "payment platform \"erc20-polygon-glm\" is not offered; use erc20-hoodi-tglm")
        #expect(reason(demand([Key.chosenPlatform: .null])) == "Missing fields: golem.com.payment.chosen-platform")
        #expect(reason(demand(["golem.com.payment.platform.erc20-hoodi-tglm.address": .null])) == "the demand has no address on erc20-hoodi-tglm")
    }

    @Test func onlyRefusalsAnotherProposalCannotFixAreFinal() {
        #expect(decide(demand([Key.chosenPlatform: .null])) == .reject("Missing fields: golem.com.payment.chosen-platform", isFinal: false))
        guard case .reject(_, let tooLong) = decide(demand([Key.acceptTimeout: .null], expiresIn: 3600)),
              case .reject(_, let tooShort) = decide(demand(expiresIn: 60)),
              case .reject(_, let range) = decide(demand([Key.debitNoteInterval: .int(0)])) else {
            Issue.record("not refused"); return
        }
        #expect(!tooLong && tooShort && range)
    }

    @Test func expirationMustBeWithinYaProvidersBounds() {
        #expect(reason(demand(expiresIn: 240))?.contains("expires in 240 s, which is less than 300 s") == true)
        #expect(decide(demand(expiresIn: 301)) == .ready)
        #expect(decide(demand(expiresIn: 30 * 86_400)) == .ready, "with an accept timeout there is no upper bound that matters")
        // Without an accept timeout the requestor promises nothing: 30 minutes at most.
        let withoutAccept: [String: JSONValue] = [Key.acceptTimeout: .null]
        #expect(reason(demand(withoutAccept, expiresIn: 1801))?.contains("more than 1800 s from now") == true)
        #expect(reason(demand([Key.expiration: .double(1.8e12)])) == "golem.srv.comp.expiration must be an integer of milliseconds, not 1800000000000.0")
        #expect(reason(demand([Key.expiration: .null])) == "Missing expiration key in Proposal (golem.srv.comp.expiration)")
    }

    @Test func acceptTimeoutMayBeShorterNeverLonger() {
        #expect(reason(demand([Key.acceptTimeout: .int(241)])) == "golem.com.payment.debit-notes.accept-timeout? 241 s: DebitNote acceptance deadline should be at most 240 s")
        #expect(reason(demand([Key.acceptTimeout: .int(4)])) == "golem.com.payment.debit-notes.accept-timeout? 4 s: too low DebitNotes timeout (at least 5 s)")
        #expect(reason(demand([Key.acceptTimeout: .double(120)])) == "golem.com.payment.debit-notes.accept-timeout? must be a whole number of seconds, not 120.0")
    }

    @Test func debitNoteIntervalAndPaymentTimeoutMustBeInRange() {
        #expect(reason(demand([Key.debitNoteInterval: .int(0)])) == "golem.com.scheme.payu.debit-note.interval-sec? 0 s: Demand DebitNote interval not in acceptable range of [1 s; 86400 s]")
        #expect(reason(demand([Key.debitNoteInterval: .int(86_401)]))?.contains("86401 s: Demand DebitNote interval not in acceptable range") == true)
        // The bridge's old payment timeout for a 30-day rental: max(120, rentHours·3600).
        #expect(reason(demand([Key.paymentTimeout: .int(720 * 3600)], expiresIn: 720 * 3600))
            == "golem.com.scheme.payu.payment-timeout-sec? 2592000 s: Demand DebitNote payment timeout not in acceptable range of [1 s; 86400 s]")
        #expect(reason(demand([Key.paymentTimeout: .string("60")]))?.contains("must be a whole number of seconds") == true)
    }

    @Test func longRentalsRequireMidAgreementPayments() {
        #expect(reason(demand([Key.paymentTimeout: .null], expiresIn: 10 * 3600))?.contains("threshold of enforcing mid-agreement payments") == true)
        if case .reject = decide(demand([Key.paymentTimeout: .null], expiresIn: 10 * 3600 - 60)) { Issue.record("a rental under 10 h needs no payment timeout") }
    }

    @Test func anAgreementIsApprovedOnlyWhenNegotiationEnded() {
        let negotiator = Negotiator(configuration: configuration)
        #expect(negotiator.approves(demand: demand(), offer: offer, now: now) == nil)
        #expect(negotiator.approves(demand: demand([Key.acceptTimeout: .int(120)]), offer: offer, now: now)?.contains("negotiation did not end") == true)
        #expect(negotiator.approves(demand: demand(expiresIn: 200), offer: offer, now: now)?.contains("less than 300 s") == true)
    }

    @Test func anAbsurdExpirationIsRejectedNotTrapped() {
        for literal in ["9223372036854775807", "-9223372036854775808", "1e300"] {
            #expect(reason(demand([Key.expiration: .number(literal)])) != nil, "expiration \(literal) ms was countered")
        }
    }

    @Test func paymentTermsComeFromTheDemandOrDefaults() {
        let negotiated = PaymentTerms(demand: demand(["golem.com.scheme.payu.debit-note.interval-sec?": .int(2), "golem.com.payment.debit-notes.accept-timeout?": .int(30)]), configuration: configuration)
        #expect(negotiated.debitNoteInterval == .seconds(2) && negotiated.acceptTimeout == .seconds(30))
        let defaults = PaymentTerms(demand: demand(), configuration: configuration)
        #expect(defaults.debitNoteInterval == configuration.debitNoteInterval && defaults.acceptTimeout == configuration.debitNoteAcceptTimeout)
    }

    @Test func paymentTermsKeepDemandValuesWithinBounds() {
        func terms(_ interval: Double, _ accept: Double) -> PaymentTerms {
            PaymentTerms(demand: demand([
                Key.debitNoteInterval: .double(interval),
                Key.acceptTimeout: .double(accept),
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
