/// Retry delays after a failed call: doubling from `initial` up to `maximum`. Pure.
public struct Backoff: Sendable, Hashable {
    public var initial: Duration
    public var maximum: Duration
    public private(set) var attempt = 0

    public init(initial: Duration = .milliseconds(250), maximum: Duration = .seconds(10)) {
        self.initial = initial
        self.maximum = maximum
    }

    /// The delay before the next try.
    public mutating func next() -> Duration {
        defer { attempt += 1 }
        let factor = 1 << min(attempt, 20)
        return min(initial * factor, maximum)
    }

    public mutating func reset() { attempt = 0 }
}
