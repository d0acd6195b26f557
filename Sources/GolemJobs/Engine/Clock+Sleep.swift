extension Clock where Duration == Swift.Duration {
    /// Sleeps `duration` on this clock; opens an `any Clock<Duration>` for ``JobEngine``'s timers.
    func sleepFor(_ duration: Duration) async throws {
        try await sleep(until: now.advanced(by: duration), tolerance: nil)
    }
}
