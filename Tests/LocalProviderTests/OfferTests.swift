import Foundation
import JSONModel
import Testing
import Yagna
@testable import LocalProvider

/// The offer's properties pinned to the JSON types ya-provider writes (ya-agreement-utils
/// `typed_props.rs`, ya-provider `pricing.rs` and negotiators): a requestor that type-checks offers
/// drops one whose types differ.
@Suite struct OfferTests {
    let configuration = ProviderConfiguration(yagna: YagnaConfiguration(appKey: "k"), paymentPlatform: "erc20-hoodi-tglm")
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    enum Kind: Equatable { case integer, float, string, bool, strings }

    /// Every property the agent publishes and its ya-provider type.
    static let types: [String: Kind] = [
        "golem.node.id.name": .string,
        "golem.node.debug.subnet": .string,
        "golem.node.net.is-public": .bool,
        "golem.inf.cpu.architecture": .string,
        "golem.inf.cpu.cores": .integer,
        "golem.inf.cpu.threads": .integer,
        "golem.inf.mem.gib": .float,
        "golem.inf.storage.gib": .float,
        "golem.runtime.name": .string,
        "golem.runtime.version": .string,
        "golem.runtime.capabilities": .strings,
        "golem.com.pricing.model": .string,
        "golem.com.usage.vector": .strings,
        "golem.com.pricing.model.linear.coeffs": .float,
        "golem.com.scheme": .string,
        "golem.com.scheme.payu.debit-note.interval-sec?": .integer,
        "golem.com.scheme.payu.payment-timeout-sec?": .integer,
        "golem.com.payment.debit-notes.accept-timeout?": .integer,
        "golem.com.payment.protocol.version": .integer,
        "golem.com.payment.platform.erc20-hoodi-tglm.address": .string,
        "golem.srv.caps.multi-activity": .bool,
        "golem.srv.caps.payload-manifest": .bool,
        "golem.srv.comp.expiration": .integer,
    ]

    /// The type of a value as it is written on the wire (the number's text decides integer or float).
    static func kind(_ value: JSONValue) -> Kind? {
        switch value {
        case .number(let literal): Int64(literal) != nil ? .integer : (Double(literal) != nil ? .float : nil)
        case .string: .string
        case .bool: .bool
        case .array(let elements) where elements.allSatisfy({ $0.string != nil }): .strings
        case .array(let elements) where elements.allSatisfy({ kind($0) == .float }): .float
        default: nil
        }
    }

    /// The properties as they leave in the subscribe/counter body.
    func sent(_ offer: Offer) throws -> [String: JSONValue] {
        let body = try JSONValue.parse(offer.json.encoded())
        return try #require(body["properties"]?.dictionary)
    }

    @Test func everyPropertyHasYaProvidersType() throws {
        // A whole price (the default start price 0), whole memory and storage: the cases that went out as integers.
        var configuration = configuration
        configuration.pricing = LinearPricing(start: 0, perCPUSecond: 1, perEnvSecond: Decimal(string: "0.00002")!)
        configuration.memoryGiB = 4
        configuration.storageGiB = 20
        let properties = try sent(Offer(configuration: configuration, identity: "0xprov", nonce: "n1", now: now))
        #expect(Set(properties.keys) == Set(Self.types.keys))
        for (key, value) in properties {
            #expect(Self.kind(value) == Self.types[key], "\(key) = \(String(decoding: value.encoded(), as: UTF8.self))")
        }
    }

    @Test func wholeFloatsKeepTheirPointOnTheWire() throws {
        let text = String(decoding: Offer(configuration: configuration, identity: "0xprov", nonce: "n1", now: now).json.encoded(), as: UTF8.self)
        #expect(text.contains(#""golem.com.pricing.model.linear.coeffs":[0.0001,2e-05,0.0]"#))
        #expect(text.contains(#""golem.inf.mem.gib":4.0"#))
        #expect(text.contains(#""golem.inf.cpu.threads":2,"#))
        #expect(text.contains(#""golem.srv.comp.expiration":1800003600000"#))
        #expect(text.hasSuffix(#""constraints":"(&(golem.srv.comp.expiration>0)(golem.node.debug.subnet=public))"}"#))
    }

    @Test func offerCarriesLinearPricingAndTheNonce() {
        let offer = Offer(configuration: configuration, identity: "0xprov", nonce: "n1", now: now)
        #expect(offer.properties["golem.com.pricing.model"] == .string("linear"))
        #expect(offer.properties["golem.com.usage.vector"] == .array([.string("golem.usage.cpu_sec"), .string("golem.usage.duration_sec")]))
        #expect(offer.properties["golem.com.payment.platform.erc20-hoodi-tglm.address"] == .string("0xprov"))
        #expect(offer.nodeName == "golem-bridge-local-provider-n1")
    }
}
