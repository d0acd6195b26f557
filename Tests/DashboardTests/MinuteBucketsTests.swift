import Dashboard
import Foundation
import Testing

@Suite struct MinuteBucketsTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func keepsOneHourAndForgetsOlderMinutes() {
        var buckets = MinuteBuckets()
        buckets.recordEnd(at: Self.t0, outcome: .succeeded, duration: 1)
        buckets.recordEnd(at: Self.t0.addingTimeInterval(60 * 59), outcome: .failed, duration: 2)
        let hour = buckets.lastHour(endingAt: Self.t0.addingTimeInterval(60 * 59))
        #expect(hour.count == 60)
        #expect(hour.first?.succeeded == 1)
        #expect(hour.last?.failed == 1)
        // One minute later the first minute has left the hour, and its slot is reused.
        buckets.recordEnd(at: Self.t0.addingTimeInterval(60 * 60), outcome: .canceled, duration: 3)
        let next = buckets.lastHour(endingAt: Self.t0.addingTimeInterval(60 * 60))
        #expect(next.reduce(0) { $0 + $1.succeeded } == 0)
        #expect(next.last?.canceled == 1)
        #expect(next.last?.succeeded == 0)
    }

    @Test func dropsAnOutcomeOlderThanItsSlot() {
        var buckets = MinuteBuckets()
        buckets.recordEnd(at: Self.t0.addingTimeInterval(3600), outcome: .succeeded, duration: 1)
        buckets.recordEnd(at: Self.t0, outcome: .failed, duration: 1)
        let hour = buckets.lastHour(endingAt: Self.t0.addingTimeInterval(3600))
        #expect(hour.reduce(0) { $0 + $1.failed } == 0)
        #expect(hour.last?.succeeded == 1)
    }

    @Test func jobsPerSecondAndMeanLatency() {
        var buckets = MinuteBuckets()
        for duration in [1.0, 2.0, 6.0] { buckets.recordEnd(at: Self.t0, outcome: .succeeded, duration: duration) }
        let minute = buckets.lastHour(endingAt: Self.t0).last
        #expect(minute?.ended == 3)
        #expect(minute?.latencyMean == 3)
        #expect(minute?.latencyMax == 6)
    }
}
