import Foundation
import JSONModel

/// Whether a debit note or invoice asks no more than its agreement's linear prices allow for the
/// time the agreement has run. Pure: the backend reads the agreement and the document from yagna and
/// asks ``verdict(amount:at:usage:activities:)``.
///
/// The most an agreement can owe after `t` seconds is what the negotiation budgeted for it
/// (``OfferTerms/maxCost(hours:)``): the start price once per activity, plus `t` seconds of
/// environment and of CPU on every thread. When a debit note reports its usage counters, the amount
/// must also be what those counters cost at the agreed coefficients, and each time counter must fit
/// in `t` (CPU seconds on every thread).
public struct PaymentCheck: Sendable, Hashable {
    /// Clock skew allowed between the provider node, which stamps the approval (`approvedDate`), and
    /// the requestor node, which stamps the event: 30 s. A provider's time counters start with its
    /// activity, after the approval, so with equal clocks no slack is needed; hosts kept by NTP are
    /// within a second, and 30 s covers an unsynchronised home machine while it lets an overcharge of
    /// at most 30 s of the agreed rate through (0.0008 GLM at 0.1 GLM/h).
    public static let clockSkew: TimeInterval = 30
    /// Rounding allowed on the amount, relative: ya-provider prices its f64 counters exactly (BigDecimal)
    /// and we price them in Double (about 1e-16 per operation); 1e-9 is far above that and far below
    /// any overcharge worth rejecting. Plus one wei (1e-18 GLM), the amounts' last digit.
    public static let relativeTolerance = 1e-9
    static let oneWei = Decimal(string: "0.000000000000000001")!

    /// The agreed prices.
    public var terms: OfferTerms
    /// The offer's `golem.com.usage.vector` and `golem.com.pricing.model.linear.coeffs` (one more
    /// than the vector: the start price last), to price a note's usage counters.
    public var usageVector: [String]
    public var coefficients: [Double]
    /// When the agreement was approved.
    public var start: Date
    /// When it expires (`validTo`): nothing accrues after it.
    public var end: Date?

    public init(terms: OfferTerms, usageVector: [String], coefficients: [Double], start: Date, end: Date?) {
        self.terms = terms
        self.usageVector = usageVector
        self.coefficients = coefficients
        self.start = start
        self.end = end
    }

    /// The check for an agreement's offer properties (as `GET /agreements/{id}` returns them);
    /// throws what ``OfferTerms`` refuses.
    public init(properties: [String: JSONValue], start: Date, end: Date?) throws(OfferTermsError) {
        self.init(
            terms: try OfferTerms(properties: properties),
            usageVector: properties["golem.com.usage.vector"]?.array?.compactMap(\.string) ?? [],
            coefficients: properties["golem.com.pricing.model.linear.coeffs"]?.array?.compactMap(\.number) ?? [],
            start: start, end: end
        )
    }

    public enum Verdict: Sendable, Hashable {
        case fits
        /// Why the amount does not fit, a sentence naming the figures.
        case exceeds(String)
    }

    /// The seconds the agreement has run at `at` (the requestor node's time of the event), with
    /// ``clockSkew`` added, and capped at its expiry.
    public func elapsed(at: Date) -> TimeInterval {
        let until = min(at, end ?? at)
        return max(0, until.timeIntervalSince(start)) + Self.clockSkew
    }

    /// The most the agreement can owe at `at`, for `activities` activities run one after another.
    public func cap(at: Date, activities: Int = 1) -> Double {
        Double(max(activities, 1) - 1) * terms.startPrice + terms.maxCost(hours: elapsed(at: at) / 3600)
    }

    /// Whether `amount` fits: at most ``cap(at:activities:)`` and, with `usage` (a debit note's
    /// counters in the vector's order), at most what that usage costs, with counters that fit the time.
    public func verdict(amount: Decimal, at: Date, usage: [Double]? = nil, activities: Int = 1) -> Verdict {
        let seconds = elapsed(at: at)
        let cap = cap(at: at, activities: activities)
        if Self.exceeds(amount, cap) {
            return .exceeds("\(amount) GLM is more than the \(Self.text(cap)) GLM the agreed prices allow for \(Int(seconds.rounded(.up))) s")
        }
        guard let usage, usage.count == usageVector.count, coefficients.count == usageVector.count + 1 else { return .fits }
        for (name, value) in zip(usageVector, usage) {
            let limit: Double? = switch name {
            case "golem.usage.duration_sec": seconds
            case "golem.usage.cpu_sec": seconds * Double(terms.cpuThreads)
            default: nil
            }
            if let limit, value > limit {
                return .exceeds("usage \(name) = \(value) is more than \(Int(limit.rounded(.up))) s, the most that fits in \(Int(seconds.rounded(.up))) s")
            }
        }
        let priced = zip(usage, coefficients).reduce(coefficients[usageVector.count]) { $0 + $1.0 * $1.1 }
        if Self.exceeds(amount, priced) {
            return .exceeds("\(amount) GLM is more than the \(Self.text(priced)) GLM its usage \(usage) costs at the agreed prices")
        }
        return .fits
    }

    static func exceeds(_ amount: Decimal, _ limit: Double) -> Bool {
        amount > Decimal(limit * (1 + relativeTolerance)) + oneWei
    }

    /// A limit for a log line: 12 decimals (GLM has 18; prices per second reach 1e-9).
    static func text(_ value: Double) -> String {
        var value = Decimal(value)
        var rounded = Decimal()
        NSDecimalRound(&rounded, &value, 12, .plain)
        return "\(rounded)"
    }
}
