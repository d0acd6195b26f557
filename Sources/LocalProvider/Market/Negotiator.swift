import Foundation
import JSONModel
import Resilience
import Yagna

/// Decides what to answer a requestor's demand: counter with our offer (as is, or with the demand's
/// terms taken where ya-provider takes them), or reject with a reason that names the rule and the
/// value. Pure: the market loop does the I/O.
///
/// The rules are ya-provider's built-in negotiators (agent/provider/src/market/negotiator/builtin),
/// in its order, with its defaults (``NegotiationLimits``): the demand must name the chosen platform
/// (DemandValidation), expire within bounds that depend on whether it accepts debit notes
/// (LimitExpiration), and ask for a debit-note interval and a payment timeout within ranges
/// (DebitNoteInterval, PaymentTimeout). Values ya-provider reads as integers must be integers.
public struct Negotiator: Sendable {
    public enum Decision: Sendable, Hashable {
        /// The offer already agrees with the demand: counter it as is, or approve an agreement on it.
        case ready
        /// Counter with these offer properties: the demand's terms taken within our bounds.
        case negotiating([String: JSONValue])
        /// Refused, with the reason. `isFinal` false: the same requestor may succeed with another
        /// proposal (ya-provider's `golem.proposal.rejection.is-final`).
        case reject(String, isFinal: Bool = true)
    }

    public let configuration: ProviderConfiguration
    public var limits: NegotiationLimits { configuration.negotiation }

    public init(configuration: ProviderConfiguration) {
        self.configuration = configuration
    }

    /// `demand` and `offer` are flat properties, as yagna returns them. `offer` is the last one we
    /// sent (the subscribed offer, or an agreement's offer).
    public func decide(on demand: [String: JSONValue], offer: [String: JSONValue], now: Date = Date()) -> Decision {
        var answer = offer
        do {
            try checkMarket(demand)
            let expiresIn = try checkExpiration(demand, now: now)
            try negotiateAcceptTimeout(demand, &answer)
            try negotiateInterval(demand, &answer)
            try negotiatePaymentTimeout(demand, &answer, expiresIn: expiresIn)
        } catch {
            return .reject(error.reason, isFinal: error.isFinal)
        }
        return answer == offer ? .ready : .negotiating(answer)
    }

    /// Whether an agreement on `demand` and `offer` can be approved: only when negotiation ended
    /// (every rule is ready), as ya-provider's ReactToAgreement requires.
    public func approves(demand: [String: JSONValue], offer: [String: JSONValue], now: Date = Date()) -> String? {
        switch decide(on: demand, offer: offer, now: now) {
        case .ready: nil
        case .negotiating: "negotiation did not end: the agreement's offer differs from the terms its demand asks for"
        case .reject(let reason, _): reason
        }
    }

    // MARK: - Rules

    private func checkMarket(_ demand: [String: JSONValue]) throws(Refusal) {
        let subnet = demand[Key.subnet]?.string
        if subnet != configuration.subnet {
            throw Refusal("subnet \(subnet ?? "(none)") is not \(configuration.subnet)")
        }
        // DemandValidation: ya-provider's required field.
        guard let chosen = demand[Key.chosenPlatform] else {
            throw Refusal("Missing fields: \(Key.chosenPlatform)", isFinal: false)
        }
        if chosen.string != configuration.paymentPlatform {
            throw Refusal("payment platform \(Self.text(chosen)) is not offered; use \(configuration.paymentPlatform)")
        }
        if demand["golem.com.payment.platform.\(configuration.paymentPlatform).address"]?.string == nil {
            throw Refusal("the demand has no address on \(configuration.paymentPlatform)")
        }
    }

    /// LimitExpiration's bounds; returns the seconds until the demand expires.
    private func checkExpiration(_ demand: [String: JSONValue], now: Date) throws(Refusal) -> Double {
        guard let value = demand[Key.expiration] else { throw Refusal("Missing expiration key in Proposal (\(Key.expiration))") }
        guard case .number(let literal) = value, let ms = Int64(literal) else {
            throw Refusal("\(Key.expiration) must be an integer of milliseconds, not \(Self.text(value))")
        }
        let left = Double(ms) / 1000 - now.timeIntervalSince1970
        // Without an accept timeout the requestor promises nothing about debit notes: shorter rentals only.
        let maximum = demand[Key.acceptTimeout] == nil ? limits.maximumExpirationWithoutAcceptTimeout : limits.maximumExpiration
        if left < limits.minimumExpiration.seconds || left > maximum.seconds {
            // ya-provider: final when it expires too soon; one too far away may come back shorter.
            throw Refusal(
                "\(Key.expiration): the agreement expires in \(Self.whole(left)) s, which is less than "
                    + "\(Self.whole(limits.minimumExpiration.seconds)) s or more than \(Self.whole(maximum.seconds)) s from now",
                isFinal: left < limits.minimumExpiration.seconds
            )
        }
        return left
    }

    /// LimitExpiration's accept timeout: the demand's may be shorter than ours (we take it), never longer.
    private func negotiateAcceptTimeout(_ demand: [String: JSONValue], _ offer: inout [String: JSONValue]) throws(Refusal) {
        let ours = configuration.debitNoteAcceptTimeout.components.seconds
        guard let theirs = try Self.seconds(Key.acceptTimeout, in: demand) else {
            offer[Key.acceptTimeout] = nil
            return
        }
        if theirs > ours {
            throw Refusal("\(Key.acceptTimeout) \(theirs) s: DebitNote acceptance deadline should be at most \(ours) s")
        }
        if theirs < limits.minimumAcceptTimeout.components.seconds {
            throw Refusal("\(Key.acceptTimeout) \(theirs) s: too low DebitNotes timeout (at least \(limits.minimumAcceptTimeout.components.seconds) s)")
        }
        offer[Key.acceptTimeout] = .int(theirs)
    }

    /// DebitNoteInterval: the demand's within range is taken; none means none in the offer either.
    private func negotiateInterval(_ demand: [String: JSONValue], _ offer: inout [String: JSONValue]) throws(Refusal) {
        guard let theirs = try Self.seconds(Key.debitNoteInterval, in: demand) else {
            offer[Key.debitNoteInterval] = nil
            return
        }
        try Self.check(theirs, Key.debitNoteInterval, "DebitNote interval", in: limits.debitNoteInterval)
        offer[Key.debitNoteInterval] = .int(theirs)
    }

    /// PaymentTimeout: the demand's within range is taken. A demand without one is refused when the
    /// agreement lasts at least `paymentTimeoutRequiredFrom` (mid-agreement payments are then required).
    private func negotiatePaymentTimeout(_ demand: [String: JSONValue], _ offer: inout [String: JSONValue], expiresIn: Double) throws(Refusal) {
        guard let theirs = try Self.seconds(Key.paymentTimeout, in: demand) else {
            if expiresIn >= limits.paymentTimeoutRequiredFrom.seconds {
                throw Refusal(
                    "the agreement expires in \(Self.whole(expiresIn)) s, past the \(Self.whole(limits.paymentTimeoutRequiredFrom.seconds)) s "
                        + "threshold of enforcing mid-agreement payments, but the demand has no \(Key.paymentTimeout)"
                )
            }
            offer[Key.paymentTimeout] = nil
            return
        }
        try Self.check(theirs, Key.paymentTimeout, "DebitNote payment timeout", in: limits.paymentTimeout)
        offer[Key.paymentTimeout] = .int(theirs)
    }

    // MARK: - Reading

    /// A duration property ya-provider reads as `u32` seconds: absent is nil; anything but a
    /// non-negative integer is refused (ya-provider's negotiator fails on it).
    static func seconds(_ key: String, in properties: [String: JSONValue]) throws(Refusal) -> Int64? {
        guard let value = properties[key] else { return nil }
        guard case .number(let literal) = value, let seconds = UInt32(literal) else {
            throw Refusal("\(key) must be a whole number of seconds, not \(text(value))")
        }
        return Int64(seconds)
    }

    static func check(_ seconds: Int64, _ key: String, _ name: String, in range: ClosedRange<Duration>) throws(Refusal) {
        let low = range.lowerBound.components.seconds, high = range.upperBound.components.seconds
        if seconds < low || seconds > high {
            throw Refusal("\(key) \(seconds) s: Demand \(name) not in acceptable range of [\(low) s; \(high) s]")
        }
    }

    static func text(_ value: JSONValue) -> String {
        String(decoding: value.encoded().prefix(80), as: UTF8.self)
    }

    struct Refusal: Error {
        let reason: String
        let isFinal: Bool
        init(_ reason: String, isFinal: Bool = true) {
            self.reason = reason
            self.isFinal = isFinal
        }
    }

    /// The property names the rules read.
    public enum Key {
        public static let subnet = "golem.node.debug.subnet"
        public static let chosenPlatform = "golem.com.payment.chosen-platform"
        public static let expiration = "golem.srv.comp.expiration"
        public static let acceptTimeout = "golem.com.payment.debit-notes.accept-timeout?"
        public static let debitNoteInterval = "golem.com.scheme.payu.debit-note.interval-sec?"
        public static let paymentTimeout = "golem.com.scheme.payu.payment-timeout-sec?"
    }
}

/// ya-provider's negotiation bounds (agent/provider/src/market/negotiator/factory.rs defaults).
public struct NegotiationLimits: Sendable, Hashable {
    /// Shortest agreement (5 min).
    public var minimumExpiration: Duration
    /// Longest agreement when the demand promises to accept debit notes (100 years: no limit).
    public var maximumExpiration: Duration
    /// Longest agreement when it does not (30 min).
    public var maximumExpirationWithoutAcceptTimeout: Duration
    /// The shortest accept timeout a demand may ask for (5 s); the longest is the one we offer
    /// (``ProviderConfiguration/debitNoteAcceptTimeout``, ya-provider's 4 min).
    public var minimumAcceptTimeout: Duration
    /// Debit-note intervals a demand may ask for (1 s … 24 h).
    public var debitNoteInterval: ClosedRange<Duration>
    /// Payment timeouts a demand may ask for (1 s … 24 h).
    public var paymentTimeout: ClosedRange<Duration>
    /// From this agreement length on, a payment timeout is required (10 h).
    public var paymentTimeoutRequiredFrom: Duration

    public init(
        minimumExpiration: Duration = .seconds(5 * 60),
        maximumExpiration: Duration = .seconds(100 * 365 * 86_400),
        maximumExpirationWithoutAcceptTimeout: Duration = .seconds(30 * 60),
        minimumAcceptTimeout: Duration = .seconds(5),
        debitNoteInterval: ClosedRange<Duration> = .seconds(1) ... .seconds(86_400),
        paymentTimeout: ClosedRange<Duration> = .seconds(1) ... .seconds(86_400),
        paymentTimeoutRequiredFrom: Duration = .seconds(10 * 3600)
    ) {
        self.minimumExpiration = minimumExpiration
        self.maximumExpiration = maximumExpiration
        self.maximumExpirationWithoutAcceptTimeout = maximumExpirationWithoutAcceptTimeout
        self.minimumAcceptTimeout = minimumAcceptTimeout
        self.debitNoteInterval = debitNoteInterval
        self.paymentTimeout = paymentTimeout
        self.paymentTimeoutRequiredFrom = paymentTimeoutRequiredFrom
    }
}

/// Payment terms of one agreement, read from its demand (the requestor's side) with our defaults.
public struct PaymentTerms: Sendable, Hashable {
    public var debitNoteInterval: Duration
    public var acceptTimeout: Duration
    public var platform: String

    /// What a demand may ask for either value; outside it the nearest bound is used. ya-provider's
    /// bounds for the debit-note interval (1 s … 24 h): a shorter one would flood the requestor
    /// with notes, and a value the demand makes up (1e300, infinity) must not reach `Duration`.
    public static let bounds = 1.0...86_400.0

    public init(demand properties: [String: JSONValue], configuration: ProviderConfiguration) {
        func seconds(_ key: String) -> Duration? {
            guard let value = properties[key]?.number, value > 0 else { return nil }
            let clamped = min(max(value, Self.bounds.lowerBound), Self.bounds.upperBound)
            return .seconds(saturating: clamped)
        }
        debitNoteInterval = seconds(Negotiator.Key.debitNoteInterval) ?? configuration.debitNoteInterval
        acceptTimeout = seconds(Negotiator.Key.acceptTimeout) ?? configuration.debitNoteAcceptTimeout
        platform = properties[Negotiator.Key.chosenPlatform]?.string ?? configuration.paymentPlatform
    }
}

extension Negotiator {
    /// Seconds for a message. A demand is anyone's text: its expiration may be 1e300 ms, which
    /// Int(Double) would trap on.
    static func whole(_ seconds: Double) -> String {
        abs(seconds) < 1e15 ? String(Int(seconds)) : String(seconds)
    }
}
