import Resilience

/// How many rentals the pool keeps and for how long (golem-js 3 `manyOf` `poolSize` + idle eviction).
public struct RentalPoolPolicy: Sendable, Hashable {
    /// Rentals kept at most, borrowed and idle together. 0 turns reuse off: one agreement per job.
    public var maxSize: Int
    /// Rentals the pool holds from the start: created in the background once the allocation exists,
    /// and replaced when one is destroyed (golem-js `min`). Idle ones are kept past `idleTimeout`.
    public var minSize: Int
    /// How long an unused rental is kept before its activity is destroyed and its agreement terminated.
    public var idleTimeout: Duration
    /// A rental whose agreement ends within this margin is not lent again.
    public var expiryMargin: Duration
    /// The wait before retrying a pre-fill that failed; doubled on each failure in a row.
    public var fillRetryDelay: Duration
    /// The longest wait between pre-fill retries.
    public var fillRetryMaxDelay: Duration
    /// How often idle rentals are asked whether their provider still holds them (agreement Approved,
    /// activity Ready); a dead one is ended, and replaced under `minSize`.
    public var idleCheckInterval: Duration

    public init(
        maxSize: Int = 16, minSize: Int = 0, idleTimeout: Duration = .seconds(60), expiryMargin: Duration = .seconds(120),
        fillRetryDelay: Duration = .seconds(2), fillRetryMaxDelay: Duration = .seconds(60),
        idleCheckInterval: Duration = .seconds(15)
    ) {
        self.maxSize = max(0, maxSize)
        self.minSize = max(0, min(minSize, maxSize))
        self.idleTimeout = idleTimeout
        self.expiryMargin = expiryMargin
        self.fillRetryDelay = fillRetryDelay
        self.fillRetryMaxDelay = max(fillRetryMaxDelay, fillRetryDelay)
        self.idleCheckInterval = idleCheckInterval
    }

    public var reuses: Bool { maxSize > 0 }

    /// The wait before the next pre-fill after `failures` failed in a row (0: none).
    public func fillBackoff(failures: Int) -> Duration {
        Backoff(initial: fillRetryDelay, maximum: fillRetryMaxDelay).delay(afterFailures: failures)
    }
}
