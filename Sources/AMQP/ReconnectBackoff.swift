import Resilience

/// Exponential reconnect backoff with equal jitter between `min` and `max`: the AMQP client's
/// settings for a ``Resilience/Backoff``.
public struct ReconnectBackoff: Sendable, Hashable {
    public var min: Duration
    public var max: Duration

    public init(min: Duration = .milliseconds(100), max: Duration = .seconds(10)) {
        self.min = min
        self.max = max
    }

    /// The backoff these settings describe: doubling from `min` (at least 1 ms) up to `max` (at least
    /// `min`), each pause drawn from its upper half so that many clients do not reconnect in lockstep.
    public var backoff: Backoff {
        let first = Swift.max(min, .milliseconds(1))
        return Backoff(initial: first, maximum: Swift.max(max, first), multiplier: 2, jitter: .equal)
    }

    /// The delay before reconnect attempt `attempt` (0-based).
    public func delay(attempt: Int) -> Duration {
        backoff.delay(afterFailures: Swift.max(attempt, 0) + 1)
    }
}
