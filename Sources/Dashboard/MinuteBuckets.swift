import Foundation

/// Per-minute counts of the last hour, for the dashboard's charts: a fixed ring of 60 buckets, so it
/// never grows. Pure: the caller passes the time.
public struct MinuteBuckets: Sendable, Hashable {
    /// One minute's figures.
    public struct Bucket: Sendable, Hashable {
        /// The minute, as whole minutes since 1970.
        public var minute: Int
        /// Jobs that ended in this minute, by outcome.
        public var succeeded = 0
        public var failed = 0
        public var canceled = 0
        /// Sum and maximum of the ended jobs' durations (accepted → ended), in seconds.
        public var latencySum = 0.0
        public var latencyMax = 0.0

        public init(minute: Int) { self.minute = minute }

        public var ended: Int { succeeded + failed + canceled }
        /// Mean duration of the jobs that ended in this minute; 0 when none did.
        public var latencyMean: Double { ended == 0 ? 0 : latencySum / Double(ended) }
    }

    public static let count = 60
    private var ring: [Bucket] = (0..<MinuteBuckets.count).map { _ in Bucket(minute: Int.min) }

    public init() {}

    static func minute(of time: Date) -> Int { Int((time.timeIntervalSince1970 / 60).rounded(.down)) }

    /// Counts a job that ended at `time` with `outcome` after `duration` seconds. An outcome older
    /// than the ring's hour is dropped.
    public mutating func recordEnd(at time: Date, outcome: Outcome, duration: Double) {
        let minute = Self.minute(of: time)
        let slot = ((minute % Self.count) + Self.count) % Self.count
        if ring[slot].minute != minute {
            guard ring[slot].minute < minute else { return }
            ring[slot] = Bucket(minute: minute)
        }
        switch outcome {
        case .succeeded: ring[slot].succeeded += 1
        case .failed: ring[slot].failed += 1
        case .canceled: ring[slot].canceled += 1
        }
        let duration = max(0, duration)
        ring[slot].latencySum += duration
        ring[slot].latencyMax = max(ring[slot].latencyMax, duration)
    }

    /// The 60 minutes ending with the one holding `now`, oldest first; minutes without data are empty.
    public func lastHour(endingAt now: Date) -> [Bucket] {
        let last = Self.minute(of: now)
        return ((last - Self.count + 1)...last).map { minute in
            let bucket = ring[((minute % Self.count) + Self.count) % Self.count]
            return bucket.minute == minute ? bucket : Bucket(minute: minute)
        }
    }

    /// How a job ended.
    public enum Outcome: String, Sendable, Hashable {
        case succeeded, failed, canceled
    }
}
