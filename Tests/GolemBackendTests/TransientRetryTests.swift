import Testing
@testable import GolemBackend

@Suite struct TransientRetryTests {
    let t0 = ContinuousClock.now

    @Test func pausesDoubleUpToTheCap() {
        var retry = TransientRetry(window: .seconds(600), firstPause: .milliseconds(200), maxPause: .seconds(1))
        let pauses = (0..<5).map { _ in retry.failed(started: t0, now: t0) }
        #expect(pauses == [.milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1)])
    }

    @Test func givesUpOnceTheNextTryWouldFallPastTheWindow() {
        var retry = TransientRetry(window: .seconds(10), firstPause: .seconds(1), maxPause: .seconds(1))
        #expect(retry.failed(started: t0, now: t0 + .seconds(5)) == .seconds(1))
        #expect(retry.failed(started: t0 + .seconds(6), now: t0 + .seconds(9)) == .seconds(1))
        #expect(retry.failed(started: t0 + .seconds(9), now: t0 + .seconds(9.5)) == nil)
    }

    @Test func theWindowStartsWithTheFirstFailedCallNotItsAnswer() {
        // A call that hung 35 s before failing (yagna gone) has used 35 s of the window.
        var retry = TransientRetry(window: .seconds(30))
        #expect(retry.failed(started: t0, now: t0 + .seconds(35)) == nil)
    }

    @Test func aSuccessStartsANewWindow() {
        var retry = TransientRetry(window: .seconds(10), firstPause: .seconds(1), maxPause: .seconds(4))
        _ = retry.failed(started: t0, now: t0 + .seconds(8))
        retry.succeeded()
        #expect(retry.failed(started: t0 + .seconds(20), now: t0 + .seconds(20)) == .seconds(1))
    }
}
