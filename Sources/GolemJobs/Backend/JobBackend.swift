import Logging

/// Where jobs run: finds a provider per attempt and hands out a ``JobRental`` that runs the steps.
///
/// The engine calls `acquire` once per attempt, only while the job holds a concurrency slot, and
/// cancels the calling Task when the job is canceled, times out or is suspended.
public protocol JobBackend: Sendable {
    /// Finds a provider for one attempt. Must return promptly (≤1 s) when the calling Task is cancelled.
    ///
    /// Throw `JobError(.noProvider, …)` when none can be found (not retried), or `.providerFailed`,
    /// `.interrupted`, `.internal` (or any other error) for failures another attempt may overcome.
    func acquire(jobId: String, spec: JobSpec, attempt: Int, logger: Logger) async throws -> any JobRental
}

/// One attempt's provider, from `acquire` to `release`.
public protocol JobRental: Sendable {
    var provider: ProviderInfo { get }
    /// Runs one step. Task cancellation must kill what runs (within a second). A non-zero exit is NOT
    /// thrown: it is a StepResult with exitCode; throw JobError(.providerFailed …) for provider/backend failures.
    func run(_ step: WorkStep, index: Int, logger: Logger) async throws -> StepResult
    /// Runs one step as `run(_:index:logger:)` does, and, for a backend that can, tells `output` each
    /// piece of a run step's stdout and stderr as it is read (only what the step's result keeps). Called
    /// for `run` steps with `stream` set; `output` must return at once. The default ignores `output`.
    func run(_ step: WorkStep, index: Int, logger: Logger, output: @escaping StepOutputSink) async throws -> StepResult
    /// Cleans up (kill leftovers, remove the work dir). `healthy` false after a failure or cancel.
    func release(healthy: Bool) async
}

/// Told the bytes of a running step's output as they are read, and `cut` once the stream reached the
/// step's output limit (what follows is dropped); must return at once.
public typealias StepOutputSink = @Sendable (_ stream: StepOutput.Stream, _ bytes: ArraySlice<UInt8>, _ cut: Bool) -> Void

extension JobRental {
    /// Backends that cannot stream (Golem today) send the whole output with the step's result only.
    public func run(_ step: WorkStep, index: Int, logger: Logger, output: @escaping StepOutputSink) async throws -> StepResult {
        try await run(step, index: index, logger: logger)
    }
}
