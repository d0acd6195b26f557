import Foundation
import JSONModel
import Resilience
import Yagna

/// The offer the agent subscribes: what ya-provider publishes for a `vm` runtime, with a nonce in
/// `golem.node.id.name` so a requestor never matches an offer of an earlier run.
///
/// Every property has the JSON type ya-provider gives it (ya-agreement-utils `typed_props.rs`,
/// ya-provider `pricing.rs` and its negotiators): counts and seconds are integers (`u32`, the
/// expiration `i64` ms), memory, storage and the linear coefficients are floats, so a whole price
/// `0` goes out as `0.0`. A requestor that type-checks offers drops one whose types differ. The
/// body is written from ``json`` as is (``JSONValue/encoded()``), never through `Codable`, which
/// would write a whole float as an integer.
public struct Offer: Sendable, Hashable {
    public var properties: [String: JSONValue]
    public var constraints: String

    /// Builds the offer for `identity` (the payment address) from the configuration.
    public init(configuration: ProviderConfiguration, identity: String, nonce: String, now: Date = Date()) {
        let pricing = configuration.pricing
        let expiration = now.addingTimeInterval(configuration.offerExpiration.seconds)
        properties = [
            "golem.node.id.name": .string("\(configuration.nodeName)-\(nonce)"),
            "golem.node.debug.subnet": .string(configuration.subnet),
            "golem.node.net.is-public": .bool(false),
            "golem.inf.cpu.architecture": .string("x86_64"),
            "golem.inf.cpu.cores": .int(configuration.cpuThreads),
            "golem.inf.cpu.threads": .int(configuration.cpuThreads),
            "golem.inf.mem.gib": .double(configuration.memoryGiB),
            "golem.inf.storage.gib": .double(configuration.storageGiB),
            "golem.runtime.name": .string("vm"),
            "golem.runtime.version": .string("0.4.0"),
            "golem.runtime.capabilities": .array([.string("start-entrypoint")]),
            "golem.com.pricing.model": .string("linear"),
            "golem.com.usage.vector": .array(LinearPricing.usageVector.map { .string($0) }),
            "golem.com.pricing.model.linear.coeffs": .array(pricing.coefficients.map { .double(NSDecimalNumber(decimal: $0).doubleValue) }),
            "golem.com.scheme": .string("payu"),
            Negotiator.Key.debitNoteInterval: .int(configuration.debitNoteInterval.components.seconds),
            Negotiator.Key.paymentTimeout: .int(configuration.paymentTimeout.components.seconds),
            Negotiator.Key.acceptTimeout: .int(configuration.debitNoteAcceptTimeout.components.seconds),
            "golem.com.payment.protocol.version": .int(3),
            "golem.com.payment.platform.\(configuration.paymentPlatform).address": .string(identity),
            "golem.srv.caps.multi-activity": .bool(true),
            "golem.srv.caps.payload-manifest": .bool(false),
            Negotiator.Key.expiration: .int(Int64((expiration.timeIntervalSince1970 * 1000).rounded())),
        ]
        constraints = "(&(golem.srv.comp.expiration>0)(golem.node.debug.subnet=\(configuration.subnet)))"
    }

    /// The same offer with other properties (a counter that takes the demand's terms).
    public func with(properties: [String: JSONValue]) -> Offer {
        var offer = self
        offer.properties = properties
        return offer
    }

    /// The nonce-bearing name, to recognise our own offer in a requestor's proposals.
    public var nodeName: String? { properties["golem.node.id.name"]?.string }

    /// The `{properties, constraints}` body, properties in key order.
    public var json: JSONValue {
        let members = properties.sorted { $0.key < $1.key }.map { JSONMember($0.key, $0.value) }
        return .object([JSONMember("properties", .object(members)), JSONMember("constraints", .string(constraints))])
    }
}
