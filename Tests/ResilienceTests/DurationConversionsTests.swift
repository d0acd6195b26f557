import Resilience
import Testing

@Suite struct DurationConversionsTests {
    @Test func secondsIncludeTheFraction() {
        #expect(Duration.milliseconds(1500).seconds == 1.5)
        #expect(Duration.seconds(-2).seconds == -2)
        #expect(Duration.zero.seconds == 0)
    }

    @Test func wholeMillisecondsRoundToTheNearest() {
        #expect(Duration.microseconds(1499).wholeMilliseconds == 1)
        #expect(Duration.microseconds(1500).wholeMilliseconds == 2)
        #expect(Duration.seconds(3).wholeMilliseconds == 3000)
        #expect(Duration.microseconds(-1500).wholeMilliseconds == -2)
    }

    @Test func millisecondsRoundUpWhenAsked() {
        #expect(Duration.microseconds(1001).milliseconds(rounded: .up) == 2)
        #expect(Duration.nanoseconds(1).milliseconds(rounded: .up) == 1)
        #expect(Duration.microseconds(1999).milliseconds(rounded: .down) == 1)
    }

    @Test func millisecondsOfAHugeDurationSaturate() {
        #expect(Duration.seconds(Int64.max).wholeMilliseconds == .max)
        #expect(Duration.seconds(Int64.min).wholeMilliseconds == .min)
    }

    @Test func saturatingSecondsRoundToTheNanosecond() {
        #expect(Duration.seconds(saturating: 1.5) == .milliseconds(1500))
        #expect(Duration.seconds(saturating: 0.1 * 4) == .milliseconds(400))
        #expect(Duration.seconds(saturating: 1e-10) == .zero)
        #expect(Duration.seconds(saturating: -0.25) == .milliseconds(-250))
        #expect(Duration.seconds(saturating: 1e12) == .seconds(1_000_000_000_000))
    }

    @Test func saturatingSecondsNeverTrap() {
        #expect(Duration.seconds(saturating: .nan) == .zero)
        #expect(Duration.seconds(saturating: .infinity) == .seconds(Int64.max))
        #expect(Duration.seconds(saturating: -.infinity) == .seconds(Int64.min))
        #expect(Duration.seconds(saturating: 1e300) == .seconds(Int64.max))
        #expect(Duration.seconds(saturating: -1e300) == .seconds(Int64.min))
    }

    @Test func secondsRoundTrip() {
        for value in [0.0, 0.001, 1.25, 59.999, 3600, 86_400 * 365.0] {
            #expect(Duration.seconds(saturating: value).seconds == value)
        }
    }
}
