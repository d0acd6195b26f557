/// Exponential reconnect backoff with full jitter between `min` and `max`.
public struct ReconnectBackoff: Sendable, Hashable {
    public var min: Duration
    public var max: Duration

    public init(min: Duration = .milliseconds(100), max: Duration = .seconds(10)) {
        self.min = min
        self.max = max
    }

    /// The delay before reconnect attempt `attempt` (0-based): min * 2^attempt capped at max, then
    /// uniformly jittered into [ceiling/2, ceiling] so many clients do not reconnect in lockstep.
    public func delay(attempt: Int) -> Duration {
        let minS = Swift.max(min.seconds, 0.001)
        let ceiling = Swift.min(minS * pow2(Swift.min(attempt, 30)), Swift.max(max.seconds, minS))
        let jittered = Double.random(in: (ceiling / 2)...ceiling)
        return .milliseconds(Int64(jittered * 1000))
    }

    private func pow2(_ n: Int) -> Double { Double(1 << n) }
}

extension Duration {
    /// The duration in (fractional) seconds.
    var seconds: Double {
        let c = components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }

    /// The duration in whole milliseconds (rounded).
    var wholeMilliseconds: Int {
        Int((seconds * 1000).rounded())
    }
}
