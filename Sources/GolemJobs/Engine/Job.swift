import Foundation
import Logging
import Synchronization

/// One job: golem-js's `Job`, with cancel that works in every phase, retries, deadlines and a
/// replayable event stream. Created by ``JobEngine/createJob(id:spec:previousAttempts:)``.
///
/// The decisions are ``JobLifecycle``'s; a `Job` only executes its actions. Inputs are handled one at a
/// time, in arrival order, by whichever caller finds the mailbox idle, so events come out in order and
/// event handlers may call back into the job (`cancel()` from `onEvent` is fine).
public final class Job: Sendable {
    public let id: String
    public let spec: JobSpec

    struct Environment: Sendable {
        var backend: any JobBackend
        var clock: any Clock<Duration>
        var now: @Sendable () -> Date
        var retry: RetryPolicy
        var slots: SlotPool
        var logger: Logger
        var onFinish: @Sendable (String) -> Void
    }

    private enum Item: Sendable {
        case begin
        case input(JobLifecycle.Input)
        case acquired(any JobRental)
        case addHandler(@Sendable (JobEvent) -> Void)
    }

    private struct Box {
        var lifecycle: JobLifecycle
        var mailbox: [Item] = []
        var draining = false
        var history: [JobEvent] = []
        var subscribers: [Int: AsyncStream<JobEvent>.Continuation] = [:]
        var batchSubscribers: [JobEventBatches] = []
        /// Events of the current turn not yet handed to `batchSubscribers` (a suffix of `history`).
        var undelivered: [JobEvent] = []
        var handlers: [@Sendable (JobEvent) -> Void] = []
        var rental: (any JobRental)?
        var work: Task<Void, Never>?
        var timers: [JobLifecycle.Timer: Task<Void, Never>] = [:]
        var resultWaiters: [Int: CheckedContinuation<JobResult, any Error>] = [:]
        var finishWaiters: [CheckedContinuation<Void, Never>] = []
        var finished = false
        var nextToken = 0

        mutating func token() -> Int {
            defer { nextToken += 1 }
            return nextToken
        }

        var outcome: Result<JobResult, any Error> {
            if let result = lifecycle.result, lifecycle.state == .done { return .success(result) }
            if let error = lifecycle.error { return .failure(error) }
            return .failure(JobError(.interrupted, "job was suspended before it had an outcome; it resumes after a restart"))
        }
    }

    private let environment: Environment
    private let box: Mutex<Box>

    init(id: String, spec: JobSpec, previousAttempts: Int, environment: Environment) {
        self.id = id
        self.spec = spec
        self.environment = environment
        self.box = Mutex(Box(lifecycle: JobLifecycle(jobId: id, spec: spec, previousAttempts: previousAttempts)))
    }

    // MARK: - Public API

    public var state: JobState { box.withLock { $0.lifecycle.state } }
    public var result: JobResult? { box.withLock { $0.lifecycle.state == .done ? $0.lifecycle.result : nil } }
    public var error: JobError? { box.withLock { $0.lifecycle.error } }
    /// The current attempt: `previousAttempts` until the first start, then 1-based.
    public var attempt: Int { box.withLock { $0.lifecycle.attempt } }
    /// The provider of the current attempt, once started.
    public var provider: ProviderInfo? { box.withLock { $0.lifecycle.provider } }
    /// Every event so far, in order.
    public var history: [JobEvent] { box.withLock { $0.history } }
    /// True once the job ended (or was suspended): no more events will come.
    public var isFinished: Bool { box.withLock { $0.finished } }

    /// Every event from `created` on: each access returns a new stream that first replays what already
    /// happened, then follows live, and finishes after `ended` (or when the job is suspended).
    public var events: AsyncStream<JobEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: JobEvent.self, bufferingPolicy: .unbounded)
        let token = box.withLock { $0.token() }
        continuation.onTermination = { [weak self] _ in
            _ = self?.box.withLock { $0.subscribers.removeValue(forKey: token) }
        }
        let finished = box.withLock { box in
            for event in box.history { continuation.yield(event) }
            if !box.finished { box.subscribers[token] = continuation }
            return box.finished
        }
        // Outside the lock: finishing runs `onTermination`, which takes it.
        if finished { continuation.finish() }
        return stream
    }

    /// Every event from `created` on, in batches (see ``JobEventBatches``): each access returns a new
    /// subscription that first returns what already happened. One wake-up of its reader per step of
    /// the job, not per event.
    public var eventBatches: JobEventBatches {
        box.withLock { box in
            // What this turn emitted so far comes with the turn's batch.
            let batches = JobEventBatches(history: Array(box.history.dropLast(box.undelivered.count)), finished: box.finished)
            if !box.finished { box.batchSubscribers.append(batches) }
            return batches
        }
    }

    /// Calls `handler` with every event, in order: first the ones that already happened, then live ones.
    /// It runs on the thread that drives the job: keep it short; it may call `cancel()`.
    public func onEvent(_ handler: @escaping @Sendable (JobEvent) -> Void) {
        send(.addHandler(handler))
    }

    /// Starts the job (golem-js `startWork`): it waits in `new` for a concurrency slot, then acquires a
    /// provider and runs the steps. Harmless when already started or finished.
    public func start() {
        send(.input(.start))
    }

    /// Cancels the job in any phase; it ends with `canceled` (code `canceled`, `reason` in the message)
    /// once its running command is killed and its rental released. No effect after the outcome.
    public func cancel(reason: String? = nil) {
        send(.input(.cancelRequested(reason: reason)))
    }

    /// The job's result once it ended; throws its ``JobError`` if it failed or was canceled,
    /// `JobError(.interrupted)` if it was suspended, `CancellationError` if the waiting Task is cancelled.
    public func waitForResult() async throws -> JobResult {
        let token = box.withLock { $0.token() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<JobResult, any Error>) in
                let immediate = box.withLock { box -> Result<JobResult, any Error>? in
                    if box.finished { return box.outcome }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    box.resultWaiters[token] = continuation
                    return nil
                }
                if let immediate { continuation.resume(with: immediate) }
            }
        } onCancel: {
            box.withLock { $0.resultWaiters.removeValue(forKey: token) }?.resume(throwing: CancellationError())
        }
    }

    // MARK: - Engine hooks

    func begin() { send(.begin) }

    func suspend() { send(.input(.suspend)) }

    /// Returns once the job ended or was suspended.
    func waitUntilFinished() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = box.withLock { box -> Bool in
                if box.finished { return true }
                box.finishWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    // MARK: - Executing the lifecycle

    private func send(_ item: Item) {
        let drive = box.withLock { box -> Bool in
            box.mailbox.append(item)
            if box.draining { return false }
            box.draining = true
            return true
        }
        guard drive else { return }
        while let next = box.withLock({ box -> Item? in
            if box.mailbox.isEmpty {
                box.draining = false
                // The events of everything just handled go to each batch reader at once, before the
                // lock is let go: once `draining` is false another thread may drain and finish the job,
                // and its last batch (`ended`) must not overtake this one.
                if !box.undelivered.isEmpty {
                    for batches in box.batchSubscribers { batches.deliver(box.undelivered, finished: false) }
                    box.undelivered = []
                }
                return nil
            }
            return box.mailbox.removeFirst()
        }) {
            process(next)
        }
    }

    private func process(_ item: Item) {
        let now = environment.now
        switch item {
        case .begin:
            execute(box.withLock { $0.lifecycle.begin(now: now()) })
        case .input(let input):
            execute(box.withLock { $0.lifecycle.handle(input, now: now()) })
        case .acquired(let rental):
            let (actions, orphaned) = box.withLock { box in
                box.rental = rental
                let actions = box.lifecycle.handle(.providerAcquired(rental.provider), now: now())
                // Never leak a provider the lifecycle did not take (it always should).
                let orphaned = !box.lifecycle.rentalHeld && box.rental != nil && !actions.contains { if case .releaseRental = $0 { true } else { false } }
                if orphaned { box.rental = nil }
                return (actions, orphaned)
            }
            if orphaned { Task { await rental.release(healthy: false) } }
            execute(actions)
        case .addHandler(let handler):
            let past = box.withLock { box in
                box.handlers.append(handler)
                return box.history
            }
            for event in past { handler(event) }
        }
    }

    private var logger: Logger {
        var logger = environment.logger
        logger[metadataKey: "job.id"] = "\(id)"
        logger[metadataKey: "job.attempt"] = "\(attempt)"
        return logger
    }

    private func execute(_ actions: [JobLifecycle.Action]) {
        for action in actions { execute(action) }
    }

    private func execute(_ action: JobLifecycle.Action) {
        switch action {
        case .emit(let event):
            let handlers = box.withLock { box in
                box.history.append(event)
                for subscriber in box.subscribers.values { subscriber.yield(event) }
                if !box.batchSubscribers.isEmpty { box.undelivered.append(event) }
                return box.handlers
            }
            if let error = event.error, event.kind.isTerminalOutcome {
                logger.info("job \(event.kind.rawValue)", metadata: ["error.code": "\(error.code.rawValue)", "error": "\(error.message)"])
            } else {
                logger.debug("job \(event.kind.rawValue)", metadata: ["job.state": "\(event.state.rawValue)"])
            }
            for handler in handlers { handler(event) }

        case .requestSlot:
            environment.slots.request(id) { [self] in send(.input(.slotGranted)) }

        case .acquireProvider(let attempt):
            let backend = environment.backend
            let (id, spec, logger) = (id, spec, logger)
            let task = Task { [self] in
                do {
                    let rental = try await backend.acquire(jobId: id, spec: spec, attempt: attempt, logger: logger)
                    send(.acquired(rental))
                } catch {
                    send(.input(.acquireFailed(Self.jobError(error, step: nil))))
                }
            }
            box.withLock { $0.work = task }

        case .runStep(let index):
            guard let rental = box.withLock({ $0.rental }) else {
                send(.input(.stepFailed(JobError(.internal, "no rental to run step \(index) on", step: index))))
                return
            }
            let (step, logger) = (spec.work[index], logger)
            let task = Task { [self] in
                do {
                    var result = try await runStreaming(step, index: index, on: rental, logger: logger)
                    result.index = index
                    send(.input(.stepFinished(result)))
                } catch {
                    send(.input(.stepFailed(Self.jobError(error, step: index))))
                }
            }
            box.withLock { $0.work = task }

        case .scheduleTimer(let timer, let after):
            let input: JobLifecycle.Input
            switch timer {
            case .job: input = .timeoutFired
            case .step(let index): input = .stepTimeoutFired(index: index)
            case .backoff: input = .backoffElapsed
            }
            schedule(timer, after: after, input: input)

        case .scheduleBackoff(let attempt):
            var random = SystemRandomNumberGenerator()
            let delay = environment.retry.delay(afterAttempt: attempt, random: &random)
            let failure = box.withLock { $0.lifecycle.retriedFailure }
            logger.info("retrying after a failed attempt", metadata: [
                "backoff": "\(delay)", "job.attempt": "\(attempt)",
                "error.code": "\(failure?.code.rawValue ?? "?")", "error": "\(failure?.message ?? "?")",
            ])
            schedule(.backoff, after: delay, input: .backoffElapsed)

        case .cancelTimer(let timer):
            box.withLock { $0.timers.removeValue(forKey: timer) }?.cancel()

        case .cancelAllTimers:
            let timers = box.withLock { box in
                defer { box.timers = [:] }
                return box.timers.values
            }
            for timer in timers { timer.cancel() }

        case .cancelWork:
            box.withLock { $0.work }?.cancel()

        case .releaseRental(let healthy):
            let rental = box.withLock { box in
                defer { box.rental = nil }
                return box.rental
            }
            Task { [self] in
                await rental?.release(healthy: healthy)
                send(.input(.cleanupFinished))
            }

        case .finish:
            let (subscribers, batches, resultWaiters, finishWaiters, timers, outcome) = box.withLock { box in
                box.finished = true
                box.work = nil
                defer {
                    box.subscribers = [:]
                    box.batchSubscribers = []
                    box.undelivered = []
                    box.resultWaiters = [:]
                    box.finishWaiters = []
                    box.timers = [:]
                    box.handlers = []
                }
                return (
                    box.subscribers.values, (box.batchSubscribers, box.undelivered), box.resultWaiters.values, box.finishWaiters,
                    box.timers.values, box.outcome
                )
            }
            for timer in timers { timer.cancel() }
            for subscriber in subscribers { subscriber.finish() }
            for subscriber in batches.0 { subscriber.deliver(batches.1, finished: true) }
            for waiter in resultWaiters { waiter.resume(with: outcome) }
            environment.slots.relinquish(id)
            for waiter in finishWaiters { waiter.resume() }
            environment.onFinish(id)
        }
    }

    private func schedule(_ timer: JobLifecycle.Timer, after delay: Duration, input: JobLifecycle.Input) {
        let clock = environment.clock
        let task = Task { [self] in
            do {
                try await clock.sleepFor(delay)
            } catch {
                return
            }
            send(.input(input))
        }
        box.withLock { $0.timers.updateValue(task, forKey: timer) }?.cancel()
    }

    /// Runs one step; a `run` step with `stream` set also sends its output while it runs, as
    /// `stepOutput` inputs, all of them before the step's completion.
    private func runStreaming(_ step: WorkStep, index: Int, on rental: any JobRental, logger: Logger) async throws -> StepResult {
        guard case .run(let run) = step, run.stream else { return try await rental.run(step, index: index, logger: logger) }
        let streamer = StepOutputStreamer(step: index)
        let delivery = Task { [self, clock = environment.clock] in
            await streamer.run(clock: clock) { send(.input(.stepOutput($0))) }
        }
        let result: Result<StepResult, any Error>
        do {
            result = .success(try await rental.run(step, index: index, logger: logger, output: streamer.sink))
        } catch {
            result = .failure(error)
        }
        delivery.cancel()
        await delivery.value
        for piece in streamer.finish() { send(.input(.stepOutput(piece))) }
        return try result.get()
    }

    /// Backend errors as the job's error: a `JobError` as is, anything else `internal` (retryable).
    static func jobError(_ error: any Error, step: Int?) -> JobError {
        if var jobError = error as? JobError {
            if jobError.step == nil { jobError.step = step }
            return jobError
        }
        if error is CancellationError {
            return JobError(.interrupted, "the operation was canceled", step: step)
        }
        return JobError(.internal, "backend failure: \(error)", step: step)
    }
}
