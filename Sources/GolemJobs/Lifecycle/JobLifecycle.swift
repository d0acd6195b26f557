import Foundation
import Resilience

/// The whole lifecycle of one job as a value type: inputs in, actions out, no I/O.
///
/// Whatever order inputs arrive in, the events it emits are `created`, then `started` once per attempt
/// (with `progress` after each finished step, and while a streaming step runs for its output), then
/// exactly one of `success`, `error`, `canceled`, then exactly one `ended`, and nothing after it. `ended` waits until the attempt's work has stopped and its
/// rental was released (`cleanupFinished`). A `suspend` stops the work the same way but emits neither an
/// outcome nor `ended`. Inputs that do not fit the current phase (late step results, stale timers, a
/// second cancel) are ignored.
///
/// The executor (``Job``) must: run at most the one operation it was asked for, report its completion
/// (even after `cancelWork`) with the matching input, and report `cleanupFinished` after each
/// `releaseRental`.
public struct JobLifecycle: Sendable {
    public enum Input: Sendable, Hashable {
        case start
        case slotGranted
        case providerAcquired(ProviderInfo)
        case acquireFailed(JobError)
        case stepFinished(StepResult)
        /// Output of the running step, streamed (`RunStep.stream`); sent as a `progress` event while
        /// that step runs, dropped otherwise.
        case stepOutput(StepOutput)
        case stepFailed(JobError)
        case cancelRequested(reason: String?)
        /// The job's own deadline (`spec.timeout`, counted from `created`).
        case timeoutFired
        /// The deadline of run step `index` (`RunStep.timeout`).
        case stepTimeoutFired(index: Int)
        case backoffElapsed
        /// The rental released by the last `releaseRental` is gone.
        case cleanupFinished
        case suspend
    }

    public enum Timer: Sendable, Hashable {
        case job
        case step(index: Int)
        case backoff
    }

    public enum Action: Sendable, Hashable {
        case emit(JobEvent)
        /// Wait for a concurrency slot, then input `slotGranted`.
        case requestSlot
        /// Find a provider; input `providerAcquired` or `acquireFailed`.
        case acquireProvider(attempt: Int)
        /// Run step `index` on the current rental; input `stepFinished` or `stepFailed`.
        case runStep(index: Int)
        /// Input the timer's input (`timeoutFired`, `stepTimeoutFired`) after `after`.
        case scheduleTimer(Timer, after: Duration)
        /// Wait the retry policy's backoff after attempt `afterAttempt`, then input `backoffElapsed`.
        case scheduleBackoff(afterAttempt: Int)
        case cancelTimer(Timer)
        case cancelAllTimers
        /// Stop the operation in flight (acquire or step); its completion input still has to come.
        case cancelWork
        /// Release the current rental; input `cleanupFinished` when done.
        case releaseRental(healthy: Bool)
        /// Nothing more will happen: close the event streams, give back the slot.
        case finish
    }

    public enum Phase: Sendable, Hashable {
        /// Created, not started.
        case idle
        /// Started, waiting for a concurrency slot.
        case queued
        case acquiring
        case running(step: Int)
        /// A retryable failure: releasing the failed attempt's rental before the backoff.
        case releasingForRetry
        case backoff
        /// The outcome is out; waiting for the work to stop and the rental to be released.
        case finishing
        /// Suspended; waiting for the work to stop and the rental to be released.
        case suspending
        case ended
        case suspended
    }

    public let jobId: String
    public let work: [WorkStep]
    public let timeout: Duration?
    /// The last attempt number this job may use (`spec.maxAttempts`, counted over restarts).
    public let maxAttempts: Int

    public private(set) var phase: Phase = .idle
    public private(set) var state: JobState = .new
    public private(set) var attempt: Int
    public private(set) var provider: ProviderInfo?
    public private(set) var result: JobResult?
    public private(set) var error: JobError?
    /// The failure of the last attempt that is being retried (for logs: why the job tries again).
    public private(set) var retriedFailure: JobError?
    /// Whether `created` was emitted (by ``begin(now:)``).
    public private(set) var createdEmitted = false

    private var stepResults: [StepResult] = []
    /// An acquire or a step was asked for and its completion input has not come yet.
    public private(set) var operationInFlight = false
    /// A provider was acquired and not yet released.
    public private(set) var rentalHeld = false
    /// A `releaseRental` was asked for and its `cleanupFinished` has not come yet.
    public private(set) var releaseInFlight = false
    public private(set) var activeTimers: Set<Timer> = []

    public init(jobId: String, spec: JobSpec, previousAttempts: Int = 0) {
        self.jobId = jobId
        self.work = spec.work
        self.timeout = spec.timeout
        self.maxAttempts = max(spec.maxAttempts, 1)
        self.attempt = max(previousAttempts, 0)
    }

    /// True once `finish` was returned.
    public var isFinished: Bool { phase == .ended || phase == .suspended }
    public var isSuspended: Bool { phase == .suspending || phase == .suspended }

    /// Emits `created` and starts the job's deadline; call once, when the job is created.
    public mutating func begin(now: Date) -> [Action] {
        guard !createdEmitted, phase == .idle else { return [] }
        createdEmitted = true
        var actions: [Action] = [.emit(event(.created, now))]
        if let timeout {
            activeTimers.insert(.job)
            actions.append(.scheduleTimer(.job, after: timeout))
        }
        return actions
    }

    public mutating func handle(_ input: Input, now: Date) -> [Action] {
        var actions: [Action] = []
        if !createdEmitted { actions += begin(now: now) }
        switch input {
        case .start:
            guard phase == .idle else { break }
            if attempt >= maxAttempts {
                conclude(.error, JobError(.interrupted, "no attempt left: \(attempt) of \(maxAttempts) attempts were used before"), now, &actions)
            } else {
                phase = .queued
                actions.append(.requestSlot)
            }

        case .slotGranted:
            guard phase == .queued else { break }
            beginAttempt(&actions)

        case .providerAcquired(let info):
            guard operationInFlight else { break }
            switch phase {
            case .acquiring:
                operationInFlight = false
                rentalHeld = true
                provider = info
                state = .pending
                actions.append(.emit(event(.started, now)))
                runStep(0, now, &actions)
            case .finishing, .suspending:
                operationInFlight = false
                rentalHeld = true
                windDown(now, &actions)
            default: break
            }

        case .acquireFailed(let failure):
            guard operationInFlight else { break }
            switch phase {
            case .acquiring:
                operationInFlight = false
                fail(failure, now, &actions)
            case .finishing, .suspending:
                operationInFlight = false
                windDown(now, &actions)
            default: break
            }

        case .stepFinished(var step):
            guard operationInFlight else { break }
            switch phase {
            case .running(let index):
                operationInFlight = false
                step.index = index
                stopStepTimer(index, &actions)
                stepResults.append(step)
                actions.append(.emit(event(.progress, now, step: step)))
                if step.kind == .run, let code = step.exitCode, code != 0, !allowsFailure(index) {
                    conclude(.error, JobError(.commandFailed, "step \(index) (run) exited with code \(code)", step: index), now, &actions)
                } else if index + 1 < work.count {
                    runStep(index + 1, now, &actions)
                } else {
                    result = JobResult(steps: stepResults)
                    conclude(.success, nil, now, &actions)
                }
            case .finishing, .suspending:
                operationInFlight = false
                windDown(now, &actions)
            default: break
            }

        case .stepOutput(let output):
            guard operationInFlight, phase == .running(step: output.step) else { break }
            actions.append(.emit(event(.progress, now, output: output)))

        case .stepFailed(var failure):
            guard operationInFlight else { break }
            switch phase {
            case .running(let index):
                operationInFlight = false
                stopStepTimer(index, &actions)
                if failure.step == nil { failure.step = index }
                fail(failure, now, &actions)
            case .finishing, .suspending:
                operationInFlight = false
                windDown(now, &actions)
            default: break
            }

        case .cancelRequested(let reason):
            guard isLive else { break }
            let message = reason.map { "canceled: \($0)" } ?? "canceled on request"
            conclude(.canceled, JobError(.canceled, message), now, &actions)

        case .timeoutFired:
            guard isLive, activeTimers.contains(.job) else { break }
            activeTimers.remove(.job)
            let limit = timeout.map { " of \(Self.describe($0))" } ?? ""
            conclude(.error, JobError(.timeout, "the job exceeded its timeout\(limit)"), now, &actions)

        case .stepTimeoutFired(let index):
            guard phase == .running(step: index), operationInFlight, activeTimers.contains(.step(index: index)) else { break }
            activeTimers.remove(.step(index: index))
            let limit = runTimeout(index).map { " of \(Self.describe($0))" } ?? ""
            conclude(.error, JobError(.timeout, "step \(index) exceeded its timeout\(limit)", step: index), now, &actions)

        case .backoffElapsed:
            guard phase == .backoff, activeTimers.contains(.backoff) else { break }
            activeTimers.remove(.backoff)
            beginAttempt(&actions)

        case .cleanupFinished:
            guard releaseInFlight else { break }
            releaseInFlight = false
            rentalHeld = false
            switch phase {
            case .releasingForRetry:
                phase = .backoff
                activeTimers.insert(.backoff)
                actions.append(.scheduleBackoff(afterAttempt: attempt))
            case .finishing, .suspending:
                windDown(now, &actions)
            default: break
            }

        case .suspend:
            guard isLive else { break }
            phase = .suspending
            stopWork(&actions)
            windDown(now, &actions)
        }
        return actions
    }

    // MARK: - Transitions

    /// Phases in which an outcome is still open.
    private var isLive: Bool {
        switch phase {
        case .idle, .queued, .acquiring, .running, .releasingForRetry, .backoff: true
        case .finishing, .suspending, .ended, .suspended: false
        }
    }

    private mutating func beginAttempt(_ actions: inout [Action]) {
        attempt += 1
        provider = nil
        stepResults = []
        phase = .acquiring
        operationInFlight = true
        actions.append(.acquireProvider(attempt: attempt))
    }

    private mutating func runStep(_ index: Int, _ now: Date, _ actions: inout [Action]) {
        guard index < work.count else {
            result = JobResult(steps: stepResults)
            conclude(.success, nil, now, &actions)
            return
        }
        phase = .running(step: index)
        operationInFlight = true
        actions.append(.runStep(index: index))
        if let limit = runTimeout(index) {
            activeTimers.insert(.step(index: index))
            actions.append(.scheduleTimer(.step(index: index), after: limit))
        }
    }

    private mutating func stopStepTimer(_ index: Int, _ actions: inout [Action]) {
        if activeTimers.remove(.step(index: index)) != nil {
            actions.append(.cancelTimer(.step(index: index)))
        }
    }

    /// A failure of the current attempt: retry when it may help and attempts remain, else the job fails.
    private mutating func fail(_ failure: JobError, _ now: Date, _ actions: inout [Action]) {
        guard failure.code.isRetryable, attempt < maxAttempts else {
            conclude(.error, failure, now, &actions)
            return
        }
        retriedFailure = failure
        if rentalHeld {
            phase = .releasingForRetry
            releaseInFlight = true
            actions.append(.releaseRental(healthy: false))
        } else {
            phase = .backoff
            activeTimers.insert(.backoff)
            actions.append(.scheduleBackoff(afterAttempt: attempt))
        }
    }

    /// Emits the one outcome and starts winding down.
    private mutating func conclude(_ kind: JobEvent.Kind, _ failure: JobError?, _ now: Date, _ actions: inout [Action]) {
        precondition(kind.isTerminalOutcome)
        error = failure
        state = kind == .success ? .done : .rejected
        actions.append(.emit(event(kind, now)))
        phase = .finishing
        stopWork(&actions)
        windDown(now, &actions)
    }

    private mutating func stopWork(_ actions: inout [Action]) {
        if !activeTimers.isEmpty {
            activeTimers.removeAll()
            actions.append(.cancelAllTimers)
        }
        if operationInFlight { actions.append(.cancelWork) }
    }

    /// Once nothing is in flight and the rental is released, ends (or, when suspending, just finishes).
    private mutating func windDown(_ now: Date, _ actions: inout [Action]) {
        if operationInFlight || releaseInFlight { return }
        if rentalHeld {
            releaseInFlight = true
            actions.append(.releaseRental(healthy: phase == .finishing && state == .done))
            return
        }
        if phase == .suspending {
            phase = .suspended
        } else {
            phase = .ended
            actions.append(.emit(event(.ended, now)))
        }
        actions.append(.finish)
    }

    // MARK: - Helpers

    private func allowsFailure(_ index: Int) -> Bool {
        if case .run(let run) = work[index] { return run.allowFailure }
        return false
    }

    private func runTimeout(_ index: Int) -> Duration? {
        if index < work.count, case .run(let run) = work[index] { return run.timeout }
        return nil
    }

    private func event(_ kind: JobEvent.Kind, _ now: Date, step: StepResult? = nil, output: StepOutput? = nil) -> JobEvent {
        JobEvent(
            jobId: jobId, kind: kind, state: state, attempt: attempt, time: now,
            provider: provider, result: state == .done ? result : nil, error: error, step: step, output: output
        )
    }

    static func describe(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return attoseconds == 0 ? "\(seconds) s" : "\(duration.seconds) s"
    }
}
