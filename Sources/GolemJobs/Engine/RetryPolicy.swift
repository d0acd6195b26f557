import Foundation

/// Exponential backoff between attempts: `initialBackoff * multiplier^(attempt-1)`, capped at
/// `maxBackoff`, then spread by ±`jitter` (a fraction) so that jobs failing together do not retry together.
public struct RetryPolicy: Sendable, Hashable {
    /// The wait after the first failed attempt.
    public var initialBackoff: Duration
    /// The longest wait, jitter included.
    public var maxBackoff: Duration
    /// How much longer each further wait is.
    public var multiplier: Double
    /// The fraction (0...1) by which a wait is randomly shortened or lengthened.
    public var jitter: Double

    public init(
        initialBackoff: Duration = .seconds(1),
        maxBackoff: Duration = .seconds(30),
        multiplier: Double = 2,
        jitter: Double = 0.2
    ) {
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.multiplier = multiplier
        self.jitter = jitter
    }

    /// The wait before the attempt after `afterAttempt` (1-based). Pure but for `random`.
    public func delay(afterAttempt attempt: Int, random: inout some RandomNumberGenerator) -> Duration {
        let cap = Self.seconds(maxBackoff)
        let exponent = Double(max(attempt, 1) - 1)
        var base = Self.seconds(initialBackoff) * pow(max(multiplier, 1), exponent)
        if !base.isFinite || base > cap { base = cap }
        let spread = min(max(jitter, 0), 1)
        var wait = base
        if spread > 0 {
            let factor = Double.random(in: (1 - spread)...(1 + spread), using: &random)
            wait = base * factor
        }
        wait = min(max(wait, 0), cap)
        return .nanoseconds(Int64((wait * 1e9).rounded()))
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
