/// How many rentals the pool keeps and for how long (golem-js 3 `manyOf` `poolSize` + idle eviction).
public struct RentalPoolPolicy: Sendable, Hashable {
    /// Rentals kept at most, borrowed and idle together. 0 turns reuse off: one agreement per job.
    public var maxSize: Int
    /// Idle rentals kept even past `idleTimeout`.
    public var minSize: Int
    /// How long an unused rental is kept before its activity is destroyed and its agreement terminated.
    public var idleTimeout: Duration
    /// A rental whose agreement ends within this margin is not lent again.
    public var expiryMargin: Duration

    public init(maxSize: Int = 16, minSize: Int = 0, idleTimeout: Duration = .seconds(60), expiryMargin: Duration = .seconds(120)) {
        self.maxSize = max(0, maxSize)
        self.minSize = max(0, min(minSize, maxSize))
        self.idleTimeout = idleTimeout
        self.expiryMargin = expiryMargin
    }

    public var reuses: Bool { maxSize > 0 }
}
