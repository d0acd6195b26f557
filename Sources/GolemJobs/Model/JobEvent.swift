import Foundation

/// One lifecycle event of a job, as emitted by the engine.
///
/// Order, whatever happens: `created`, then `started` once per attempt, `progress` any number of
/// times, then exactly one of `success`, `error`, `canceled`, then exactly one `ended`.
public struct JobEvent: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case created, started, progress, success, error, canceled, ended

        public var isTerminalOutcome: Bool { self == .success || self == .error || self == .canceled }
    }

    public var jobId: String
    public var kind: Kind
    /// The job's state after this event.
    public var state: JobState
    /// The attempt this event belongs to: 0 before the first start, then 1, 2, ...
    public var attempt: Int
    public var time: Date
    /// The provider of the current attempt, from `started` on.
    public var provider: ProviderInfo?
    /// On `success` (and on `ended` after a success).
    public var result: JobResult?
    /// On `error` and `canceled` (and on `ended` after them).
    public var error: JobError?
    /// On `progress`: the step that just finished.
    public var step: StepResult?
    /// On `progress` instead of `step`: output of a streaming run step that is still running.
    public var output: StepOutput?

    public init(
        jobId: String, kind: Kind, state: JobState, attempt: Int, time: Date,
        provider: ProviderInfo? = nil, result: JobResult? = nil, error: JobError? = nil, step: StepResult? = nil,
        output: StepOutput? = nil
    ) {
        self.jobId = jobId
        self.kind = kind
        self.state = state
        self.attempt = attempt
        self.time = time
        self.provider = provider
        self.result = result
        self.error = error
        self.step = step
        self.output = output
    }
}
