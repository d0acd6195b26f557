import Resilience

/// When to try a yagna call again after transient failures (yagna restarting, a provider's node
/// rejoining the net): a pause that doubles from `firstPause` up to `maxPause`, for as long as
/// `window` has not passed since the first failure in a row. Pure: the caller gives the times.
struct TransientRetry: Sendable {
    /// How long failures in a row are tolerated, counted from the start of the first failed call.
    var window: Duration
    var firstPause: Duration = .milliseconds(200)
    var maxPause: Duration = .seconds(5)
    private(set) var failingSince: ContinuousClock.Instant?
    private(set) var failures = 0

    init(window: Duration, firstPause: Duration = .milliseconds(200), maxPause: Duration = .seconds(5)) {
        self.window = window
        self.firstPause = firstPause
        self.maxPause = maxPause
    }

    /// A call started at `started` failed at `now`: the pause before the next try, or `nil` when
    /// the next try would begin past the window (give up).
    mutating func failed(started: ContinuousClock.Instant, now: ContinuousClock.Instant) -> Duration? {
        let since = failingSince ?? started
        failingSince = since
        failures += 1
        let pause = Backoff(initial: firstPause, maximum: maxPause).delay(afterFailures: failures)
        return now + pause - since <= window ? pause : nil
    }

    /// A call succeeded: the next failure starts a new window.
    mutating func succeeded() {
        failingSince = nil
        failures = 0
    }
}
