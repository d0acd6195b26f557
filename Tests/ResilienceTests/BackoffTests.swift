import Resilience
import Testing

/// A seeded generator, so a jittered run can be replayed.
struct SeededRandom: RandomNumberGenerator, Sendable {
    var state: UInt64
    mutating func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return state
    }
}

@Suite struct BackoffTests {
    @Test func growsByTheMultiplierUpToTheCap() {
        let backoff = Backoff(initial: .seconds(1), maximum: .seconds(30), multiplier: 2)
        #expect((1...8).map { backoff.delay(afterFailures: $0) } == [1, 2, 4, 8, 16, 30, 30, 30].map { Duration.seconds($0) })
    }

    @Test func noFailuresNoPause() {
        #expect(Backoff().delay(afterFailures: 0) == .zero)
        #expect(Backoff().delay(afterFailures: -3) == .zero)
    }

    @Test func fractionalMillisecondsStayExact() {
        let backoff = Backoff(initial: .milliseconds(200), maximum: .seconds(1))
        #expect((1...5).map { backoff.delay(afterFailures: $0) } == [200, 400, 800, 1000, 1000].map { Duration.milliseconds($0) })
    }

    @Test func aMultiplierBelowOneDoesNotShrinkThePause() {
        let backoff = Backoff(initial: .seconds(3), maximum: .seconds(10), multiplier: 0.5)
        #expect(backoff.delay(afterFailures: 5) == .seconds(3))
    }

    @Test func anInitialPauseAboveTheCapIsCapped() {
        #expect(Backoff(initial: .seconds(20), maximum: .seconds(5)).delay(afterFailures: 1) == .seconds(5))
    }

    @Test func endlessFailuresNeitherOverflowNorTrap() {
        let backoff = Backoff(initial: .seconds(1), maximum: .seconds(Int64.max), multiplier: 10)
        #expect(backoff.delay(afterFailures: .max) == .seconds(Int64.max))
        #expect(Backoff(multiplier: .infinity).delay(afterFailures: 3) == .seconds(10))
        #expect(Backoff(multiplier: .nan).delay(afterFailures: 3) == .milliseconds(250))
    }

    @Test func proportionalJitterStaysWithinItsFractionAndTheCap() {
        let backoff = Backoff(initial: .seconds(4), maximum: .seconds(5), jitter: .proportional(0.25))
        var random = SeededRandom(state: 1)
        for _ in 0..<1000 {
            let first = backoff.delay(afterFailures: 1, using: &random)
            #expect(first >= .seconds(3) && first <= .seconds(5))
            #expect(backoff.delay(afterFailures: 5, using: &random) <= .seconds(5))
        }
    }

    @Test func proportionalJitterSpreadsOverItsWholeRange() {
        let backoff = Backoff(initial: .seconds(4), maximum: .seconds(100), jitter: .proportional(0.25))
        var random = SeededRandom(state: 3)
        let pauses = (0..<1000).map { _ in backoff.delay(afterFailures: 1, using: &random) }
        #expect(pauses.min()! >= .seconds(3) && pauses.min()! < .milliseconds(3050))
        #expect(pauses.max()! <= .seconds(5) && pauses.max()! > .milliseconds(4950))
    }

    @Test func equalJitterIsBetweenHalfAndTheWholePause() {
        let backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(2), jitter: .equal)
        var random = SeededRandom(state: 9)
        for failures in 1...20 {
            let full = Backoff(initial: .milliseconds(100), maximum: .seconds(2)).delay(afterFailures: failures)
            let pause = backoff.delay(afterFailures: failures, using: &random)
            #expect(pause >= full / 2 && pause <= full)
        }
    }

    @Test func theSameRandomSourceGivesTheSamePauses() {
        let backoff = Backoff(jitter: .proportional(0.5))
        var a = SeededRandom(state: 7), b = SeededRandom(state: 7)
        #expect((1...6).map { backoff.delay(afterFailures: $0, using: &a) } == (1...6).map { backoff.delay(afterFailures: $0, using: &b) })
    }

    @Test func pausesCountFailuresAndStartOverAfterASuccess() {
        var pauses = Backoff(initial: .milliseconds(100), maximum: .milliseconds(350)).pauses()
        #expect([pauses.next(), pauses.next(), pauses.next(), pauses.next()] == [100, 200, 350, 350].map { Duration.milliseconds($0) })
        #expect(pauses.failures == 4)
        pauses.reset()
        #expect(pauses.failures == 0)
        #expect(pauses.next() == .milliseconds(100))
    }

    @Test func pausesUseTheInjectedRandomSource() {
        let backoff = Backoff(initial: .seconds(1), maximum: .seconds(8), jitter: .equal)
        var pauses = backoff.pauses(using: SeededRandom(state: 5))
        var random = SeededRandom(state: 5)
        #expect((1...4).map { _ in pauses.next() } == (1...4).map { backoff.delay(afterFailures: $0, using: &random) })
    }
}
