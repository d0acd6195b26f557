import Foundation

/// The time ``GolemBackend`` reads: monotonic instants for deadlines and the rental pool, wall time
/// for what yagna is told (allocation and agreement expiry), and sleeps. Injected so a test moves
/// time by hand instead of waiting it out; ``SystemGolemClock`` in production.
///
/// Deadlines are `ContinuousClock.Instant`s whatever the clock, so the pure types that take `now:`
/// (``RentalPoolState``, ``TransientRetry``) and ``Lease/expires`` keep their types.
public protocol GolemClock: Sendable {
    /// The monotonic time now.
    var now: ContinuousClock.Instant { get }
    /// The wall-clock time now.
    var date: Date { get }
    /// Suspends until `deadline` on this clock; throws `CancellationError` when the task is cancelled.
    func sleep(until deadline: ContinuousClock.Instant) async throws
}

extension GolemClock {
    /// Suspends for `duration` on this clock; throws `CancellationError` when the task is cancelled.
    public func sleep(for duration: Duration) async throws {
        try await sleep(until: now + duration)
    }
}

/// The machine's clocks: `ContinuousClock` and `Date()`.
public struct SystemGolemClock: GolemClock {
    public init() {}

    public var now: ContinuousClock.Instant { .now }
    public var date: Date { Date() }

    public func sleep(until deadline: ContinuousClock.Instant) async throws {
        try await Task.sleep(until: deadline, clock: .continuous)
    }
}
