import Foundation
import GolemJobs

/// A job as the journal knows it: the request it was accepted with and where it has got to.
public struct JobRecord: Sendable, Hashable {
    public var jobId: String
    /// The request body exactly as accepted; decode it again to resume the job.
    public var request: [UInt8]
    public var replyTo: String?
    public var correlationId: String?
    public var state: JobState
    /// 0 before the first `started`.
    public var attempt: Int
    public var createdAt: Date
    public var updatedAt: Date
    /// The last journaled event; `nil` right after `accept`.
    public var lastEvent: JobEvent.Kind?
    /// True once `ended` is journaled.
    public var ended: Bool
    /// `success`, `error` or `canceled` once journaled.
    public var outcome: JobEvent.Kind?

    /// Whether the job's one terminal outcome is already journaled (so a resume must only finish
    /// with `ended`, never run it again).
    /// How many of its attempts a graceful shutdown stopped (they do not count against `maxAttempts`).
    public var suspensions: Int = 0

    public var hasOutcome: Bool { outcome != nil }
}

/// A journaled event and where to send it.
public struct StoredEvent: Sendable, Hashable {
    public var envelope: EventEnvelope
    public var jobId: String
    public var sequence: Int
    public var kind: JobEvent.Kind
    /// The job's `reply_to` and `correlation_id`, for the copy sent to the requester.
    public var replyTo: String?
    public var correlationId: String?
}

/// A cancel request remembered for a job, possibly before the job arrived.
public struct CancelMark: Sendable, Hashable {
    public var jobId: String
    public var reason: String?
    public var requestedAt: Date
}

/// A journal operation that cannot be done as asked.
public struct JournalError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
