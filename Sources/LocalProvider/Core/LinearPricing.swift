import Foundation
import Resilience

/// The linear price model real providers publish: `golem.com.pricing.model.linear.coeffs` is
/// `[cpu per second, environment per second, start]` for `golem.com.usage.vector`
/// `["golem.usage.cpu_sec", "golem.usage.duration_sec"]`.
///
/// Amounts are `Decimal`, never floating point, and leave as decimal strings.
public struct LinearPricing: Sendable, Hashable {
    /// GLM charged once per activity.
    public var start: Decimal
    /// GLM per second of CPU time.
    public var perCPUSecond: Decimal
    /// GLM per second the activity exists.
    public var perEnvSecond: Decimal

    public static let usageVector = ["golem.usage.cpu_sec", "golem.usage.duration_sec"]

    public init(start: Decimal = 0, perCPUSecond: Decimal = Decimal(string: "0.0001")!, perEnvSecond: Decimal = Decimal(string: "0.00002")!) {
        self.start = start
        self.perCPUSecond = perCPUSecond
        self.perEnvSecond = perEnvSecond
    }

    /// The coefficients in offer order: usage vector order, then the start price.
    public var coefficients: [Decimal] { [perCPUSecond, perEnvSecond, start] }

    /// What `usage` costs: start + cpu × cpuSeconds + env × durationSeconds, rounded to 18 places
    /// (GLM's precision).
    public func amount(for usage: Usage) -> Decimal {
        var total = start + perCPUSecond * usage.cpuSeconds + perEnvSecond * usage.durationSeconds
        var rounded = Decimal()
        NSDecimalRound(&rounded, &total, 18, .plain)
        return rounded
    }

    /// A decimal string yagna accepts as an amount ("0.00123", never exponent notation).
    public static func text(_ amount: Decimal) -> String {
        NSDecimalNumber(decimal: amount).stringValue
    }
}

/// Usage of one activity, in the order of ``LinearPricing/usageVector``.
public struct Usage: Sendable, Hashable {
    public var cpuSeconds: Decimal
    public var durationSeconds: Decimal

    public init(cpuSeconds: Decimal = 0, durationSeconds: Decimal = 0) {
        self.cpuSeconds = cpuSeconds
        self.durationSeconds = durationSeconds
    }

    /// Seconds as whole milliseconds, so amounts do not carry binary-float noise.
    public static func seconds(_ duration: Duration) -> Decimal {
        Decimal(duration.wholeMilliseconds) / 1000
    }

    /// The usage counter vector for debit notes.
    public var vector: [Double] {
        [NSDecimalNumber(decimal: cpuSeconds).doubleValue, NSDecimalNumber(decimal: durationSeconds).doubleValue]
    }
}
