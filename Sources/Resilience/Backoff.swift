#if canImport(Glibc)
import Glibc
#endif

/// Exponential backoff: the pause after `n` failures in a row is `initial * multiplier^(n-1)`, capped at
/// `maximum`, then spread by `jitter` so that clients failing together do not retry together.
///
/// The one backoff of the package: the job engine's retries, AMQP reconnects, yagna calls and the
/// rental pool's pre-fill all ask it. Pure but for the random source, which callers may inject.
public struct Backoff: Sendable, Hashable {
    /// How a computed pause is spread.
    public enum Jitter: Sendable, Hashable {
        /// The computed pause exactly.
        case none
        /// The pause times a uniform factor in `1 - f ... 1 + f` (`f` clamped to 0...1), never more
        /// than `maximum`.
        case proportional(Double)
        /// Uniform in `pause / 2 ... pause` ("equal jitter"): at least half the pause, never more.
        case equal
    }

    /// The pause after the first failure.
    public var initial: Duration
    /// The longest pause, jitter included.
    public var maximum: Duration
    /// How much longer each further pause is; below 1 counts as 1.
    public var multiplier: Double
    public var jitter: Jitter

    /// The defaults double from 250 ms up to 10 s without jitter.
    public init(
        initial: Duration = .milliseconds(250), maximum: Duration = .seconds(10), multiplier: Double = 2,
        jitter: Jitter = .none
    ) {
        self.initial = initial
        self.maximum = maximum
        self.multiplier = multiplier
        self.jitter = jitter
    }

    /// The pause after `failures` failures in a row; `.zero` for none. Rounded to the nanosecond.
    public func delay(afterFailures failures: Int, using random: inout some RandomNumberGenerator) -> Duration {
        guard failures > 0 else { return .zero }
        let cap = Swift.max(maximum.seconds, 0)
        let growth = multiplier.isNaN ? 1 : Swift.max(multiplier, 1)
        // pow is +inf past Double's range; 1100 steps of even 2x already are.
        var base = Swift.min(Swift.max(initial.seconds, 0), cap) * pow(growth, Double(Swift.min(failures - 1, 1100)))
        if !(base <= cap) { base = cap }
        let pause: Double
        switch jitter {
        case .none:
            pause = base
        case .proportional(let fraction):
            let spread = fraction.isNaN ? 0 : Swift.min(Swift.max(fraction, 0), 1)
            pause = spread > 0 ? Swift.min(base * Double.random(in: (1 - spread)...(1 + spread), using: &random), cap) : base
        case .equal:
            pause = base > 0 ? Double.random(in: (base / 2)...base, using: &random) : 0
        }
        return .seconds(saturating: pause)
    }

    /// The pause after `failures` failures in a row, jittered with the system's random source.
    public func delay(afterFailures failures: Int) -> Duration {
        var random = SystemRandomNumberGenerator()
        return delay(afterFailures: failures, using: &random)
    }

    /// A counter of failures in a row that hands out the pause after each: `next()` after a failure,
    /// `reset()` after a success.
    public func pauses() -> Pauses {
        Pauses(backoff: self, random: SystemRandomNumberGenerator())
    }

    /// ``pauses()`` with an injected random source (tests).
    public func pauses(using random: some RandomNumberGenerator & Sendable) -> Pauses {
        Pauses(backoff: self, random: random)
    }

    /// The pauses of one run of failures (see ``Backoff/pauses()``).
    public struct Pauses: Sendable {
        public let backoff: Backoff
        /// Failures since the start or the last ``reset()``.
        public private(set) var failures = 0
        private var random: AnyRandom

        init(backoff: Backoff, random: some RandomNumberGenerator & Sendable) {
            self.backoff = backoff
            self.random = AnyRandom(base: random)
        }

        /// Counts a failure and returns the pause before the next try.
        public mutating func next() -> Duration {
            failures += 1
            return backoff.delay(afterFailures: failures, using: &random)
        }

        /// A success: the next failure pauses ``Backoff/initial`` again.
        public mutating func reset() {
            failures = 0
        }
    }
}

/// A random source of any type, stored (an existential cannot be passed `inout` as a generic one).
private struct AnyRandom: RandomNumberGenerator, Sendable {
    var base: any RandomNumberGenerator & Sendable

    mutating func next() -> UInt64 { base.next() }
}
