import Foundation
import JSONModel
import Resilience
import Yagna

/// The offer the agent subscribes: what ya-provider publishes for a `vm` runtime, with a nonce in
/// `golem.node.id.name` so a requestor never matches an offer of an earlier run.
public struct Offer: Sendable, Hashable, Encodable {
    public var properties: [String: JSONValue]
    public var constraints: String

    /// Builds the offer for `identity` (the payment address) from the configuration.
    public init(configuration: ProviderConfiguration, identity: String, nonce: String, now: Date = Date()) {
        let pricing = configuration.pricing
        let expiration = now.addingTimeInterval(configuration.offerExpiration.seconds)
        properties = [
            "golem.node.id.name": .string("\(configuration.nodeName)-\(nonce)"),
            "golem.node.debug.subnet": .string(configuration.subnet),
            "golem.inf.cpu.architecture": .string("x86_64"),
            "golem.inf.cpu.cores": .int(Int64(configuration.cpuThreads)),
            "golem.inf.cpu.threads": .int(Int64(configuration.cpuThreads)),
            "golem.inf.mem.gib": .double(configuration.memoryGiB),
            "golem.inf.storage.gib": .double(configuration.storageGiB),
            "golem.runtime.name": .string("vm"),
            "golem.runtime.version": .string("0.4.0"),
            "golem.runtime.capabilities": .array([.string("start-entrypoint")]),
            "golem.com.pricing.model": .string("linear"),
            "golem.com.usage.vector": .array(LinearPricing.usageVector.map { .string($0) }),
            "golem.com.pricing.model.linear.coeffs": .array(pricing.coefficients.map { .double(NSDecimalNumber(decimal: $0).doubleValue) }),
            "golem.com.scheme": .string("payu"),
            "golem.com.scheme.payu.debit-note.interval-sec?": .int(configuration.debitNoteInterval.components.seconds),
            "golem.com.scheme.payu.payment-timeout-sec?": .int(120),
            "golem.com.payment.debit-notes.accept-timeout?": .int(configuration.debitNoteAcceptTimeout.components.seconds),
            "golem.com.payment.protocol.version": .string("3"),
            "golem.com.payment.platform.\(configuration.paymentPlatform).address": .string(identity),
            "golem.srv.caps.multi-activity": .bool(true),
            "golem.srv.comp.expiration": .int(Int64((expiration.timeIntervalSince1970 * 1000).rounded())),
        ]
        constraints = "(&(golem.srv.comp.expiration>0)(golem.node.debug.subnet=\(configuration.subnet)))"
    }

    /// The nonce-bearing name, to recognise our own offer in a requestor's proposals.
    public var nodeName: String? { properties["golem.node.id.name"]?.string }
}
