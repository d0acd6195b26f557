import Foundation
import GolemJobs

/// A job as the dashboard shows it, built from the events the bridge emitted since it started.
public struct JobEntry: Sendable, Hashable {
    /// Where a job is, in the words the page uses.
    public enum Phase: String, Sendable, Hashable, CaseIterable {
        /// Accepted, waiting for a slot or a provider (contract state `new`).
        case waiting
        /// Started on a provider (`pending`).
        case running
        /// Ended with a result (`done`).
        case succeeded
        /// Ended with an error (`rejected`).
        case failed
        /// Canceled (`rejected`, outcome `canceled`).
        case canceled

        public var isFinished: Bool { self == .succeeded || self == .failed || self == .canceled }
    }

    /// One event of the job's timeline.
    public struct Step: Sendable, Hashable {
        public var kind: JobEvent.Kind
        public var state: JobState
        public var attempt: Int
        public var time: Date
        /// The provider's name, the step's index and exit code, or the error: what the event adds.
        public var detail: String?
    }

    public var jobId: String
    public var labels: [String: String]
    public var phase: Phase
    /// The contract's state: `new`, `pending`, `done`, `rejected`.
    public var state: JobState
    public var attempt: Int
    public var provider: String?
    /// The first event seen (the job's `created`, unless it was resumed from an earlier run).
    public var firstSeen: Date
    public var startedAt: Date?
    public var endedAt: Date?
    /// `code: message` of a failed or canceled job.
    public var error: String?
    /// The whole timeline up to ``JobBoard/Limits/timelineLength`` steps; later `progress` ones are
    /// counted in ``droppedSteps`` instead (the outcome and `ended` are always kept).
    public var timeline: [Step] = []
    public var droppedSteps = 0

    /// Seconds from the first event to the end, or to `now` while the job is not finished.
    public func duration(now: Date) -> Double { (endedAt ?? now).timeIntervalSince(firstSeen) }

    /// Whether `filter` selects this job.
    public func matches(_ filter: JobFilter) -> Bool {
        if let phases = filter.phases, !phases.contains(phase) { return false }
        for (key, value) in filter.labels where labels[key] != value { return false }
        return true
    }
}

/// Which jobs a list shows: some phases (all when `nil`) and labels that must all match.
public struct JobFilter: Sendable, Hashable {
    public var phases: Set<JobEntry.Phase>?
    public var labels: [String: String]
    public var limit: Int

    public init(phases: Set<JobEntry.Phase>? = nil, labels: [String: String] = [:], limit: Int = 200) {
        self.phases = phases
        self.labels = labels
        self.limit = limit
    }
}
