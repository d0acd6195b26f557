import Resilience

/// Exponential backoff between attempts: `initialBackoff * multiplier^(attempt-1)`, capped at
/// `maxBackoff`, then spread by ±`jitter` (a fraction) so that jobs failing together do not retry together.
/// The job engine's settings for a ``Resilience/Backoff``.
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

    /// The backoff these settings describe.
    public var backoff: Backoff {
        Backoff(initial: initialBackoff, maximum: maxBackoff, multiplier: multiplier, jitter: .proportional(jitter))
    }

    /// The wait before the attempt after `afterAttempt` (1-based; below 1 counts as 1). Pure but for `random`.
    public func delay(afterAttempt attempt: Int, random: inout some RandomNumberGenerator) -> Duration {
        backoff.delay(afterFailures: max(attempt, 1), using: &random)
    }
}
