import GolemJobs

/// A decoded, validated job request.
public struct JobRequest: Sendable, Hashable {
    /// The job ID from the body, else from the AMQP `message_id`; `nil` when neither gives one
    /// (the caller then makes a UUID).
    public var jobId: String?
    public var spec: JobSpec

    public init(jobId: String?, spec: JobSpec) {
        self.jobId = jobId
        self.spec = spec
    }
}

/// Why a job request was not accepted. Goes to the dead-letter headers.
public struct RequestRejection: Error, Sendable, Hashable, CustomStringConvertible {
    /// Stable reason codes, the value of the dead-letter header `x-golem-error-code`.
    public enum Reason: String, Sendable, Hashable, CaseIterable {
        case tooLarge = "too_large"
        case notUTF8 = "not_utf8"
        case notJSON = "not_json"
        case tooDeep = "too_deep"
        case schema
        case unknownStep = "unknown_step"
        case invalidJobId = "invalid_job_id"
    }

    public var reason: Reason
    /// A sentence naming the field and the rule, the value of `x-golem-error`.
    public var message: String
    /// The job ID, whenever a valid one can be told despite the error (from the body, else from
    /// `message_id`), so the bridge can publish `error` and `ended` for it.
    public var jobId: String?

    public init(_ reason: Reason, _ message: String, jobId: String? = nil) {
        self.reason = reason
        self.message = message
        self.jobId = jobId
    }

    public var description: String { "\(reason.rawValue): \(message)" }
}
