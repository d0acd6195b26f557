import Foundation
import GolemJobs
import Testing

private let t0 = Date(timeIntervalSince1970: 1_800_000_000)
private let provider = ProviderInfo(id: "p1", name: "local")

private func twoStepSpec(maxAttempts: Int = 1, timeout: Duration? = nil, stepTimeout: Duration? = nil, allowFailure: Bool = false) -> JobSpec {
    JobSpec(
        work: [
            .run(RunStep(.shell("echo hi"), timeout: stepTimeout, allowFailure: allowFailure)),
            .downloadData(from: "/golem/work/out"),
        ],
        timeout: timeout, maxAttempts: maxAttempts
    )
}

private func ok(_ index: Int, exit: Int32 = 0) -> StepResult {
    index == 0 ? StepResult(index: 0, kind: .run, exitCode: exit, stdout: "hi\n", stderr: "") : StepResult(index: index, kind: .downloadData, data: [1])
}

/// Checks, input by input, the promise the lifecycle makes about events and actions.
struct InvariantTrace {
    var kinds: [JobEvent.Kind] = []
    var lastStarted: Int
    var outcome: JobEvent?
    var ended = false
    var finished = false
    var releasesOutstanding = 0
    var violation: String?

    init(previousAttempts: Int = 0) { lastStarted = previousAttempts }

    mutating func fail(_ message: String) { if violation == nil { violation = "\(message) after \(kinds)" } }

    mutating func observe(input: JobLifecycle.Input?, actions: [JobLifecycle.Action], machine: JobLifecycle) {
        // A cleanupFinished answers the release that is out, if any (a stray one answers nothing).
        if input == .cleanupFinished, releasesOutstanding > 0 { releasesOutstanding -= 1 }
        for action in actions {
            if finished { fail("action \(action) after finish") }
            switch action {
            case .emit(let event):
                if kinds.isEmpty && event.kind != .created { fail("first event \(event.kind)") }
                switch event.kind {
                case .created:
                    if !kinds.isEmpty { fail("second created") }
                    if event.state != .new { fail("created in \(event.state)") }
                case .started:
                    if outcome != nil { fail("started after outcome") }
                    if event.attempt <= lastStarted { fail("started attempt \(event.attempt) not above \(lastStarted)") }
                    if event.state != .pending || event.provider == nil { fail("started without pending/provider") }
                    lastStarted = event.attempt
                case .progress:
                    if outcome != nil { fail("progress after outcome") }
                    if !kinds.contains(.started) || event.attempt != lastStarted { fail("progress outside an attempt") }
                    if (event.step == nil) == (event.output == nil) { fail("progress without exactly one of step and output") }
                case .success, .error, .canceled:
                    if outcome != nil { fail("second outcome \(event.kind)") }
                    if event.kind == .success {
                        if event.state != .done || event.result == nil { fail("success not done") }
                    } else if event.state != .rejected || event.error == nil {
                        fail("\(event.kind) not rejected with an error")
                    }
                    if event.kind == .canceled, event.error?.code != .canceled { fail("canceled with code \(String(describing: event.error?.code))") }
                    outcome = event
                case .ended:
                    if outcome == nil { fail("ended without outcome") }
                    if ended { fail("second ended") }
                    if releasesOutstanding > 0 || machine.rentalHeld { fail("ended before cleanup finished") }
                    if event.state != outcome?.state { fail("ended state \(event.state) differs from outcome") }
                    ended = true
                }
                kinds.append(event.kind)
            case .releaseRental:
                releasesOutstanding += 1
            case .finish:
                if !(ended || machine.isSuspended) { fail("finish before ended") }
                if machine.isSuspended && (outcome != nil || ended) { fail("suspended job emitted an outcome") }
                finished = true
            default:
                break
            }
        }
    }
}

/// Feeds inputs, then answers what is still outstanding as a correct executor would, until the job is finished.
struct Driver {
    var machine: JobLifecycle
    var trace: InvariantTrace

    init(spec: JobSpec, previousAttempts: Int = 0) {
        machine = JobLifecycle(jobId: "job-1", spec: spec, previousAttempts: previousAttempts)
        trace = InvariantTrace(previousAttempts: previousAttempts)
        let actions = machine.begin(now: t0)
        trace.observe(input: nil, actions: actions, machine: machine)
    }

    @discardableResult
    mutating func feed(_ input: JobLifecycle.Input) -> [JobLifecycle.Action] {
        let actions = machine.handle(input, now: t0)
        trace.observe(input: input, actions: actions, machine: machine)
        return actions
    }

    /// What a faithful executor would input next, or nil when finished.
    func nextFaithfulInput() -> JobLifecycle.Input? {
        if machine.isFinished { return nil }
        if machine.operationInFlight {
            switch machine.phase {
            case .acquiring: return .providerAcquired(provider)
            case .running(let index): return .stepFinished(ok(index))
            default: return .stepFailed(JobError(.interrupted, "killed"))
            }
        }
        if machine.releaseInFlight { return .cleanupFinished }
        switch machine.phase {
        case .idle: return .start
        case .queued: return .slotGranted
        case .backoff: return .backoffElapsed
        default: return nil
        }
    }

    mutating func drain() {
        var steps = 0
        while let input = nextFaithfulInput(), steps < 100 {
            feed(input)
            steps += 1
        }
    }

    var events: [JobEvent.Kind] { trace.kinds }
}

@Suite struct JobLifecycleTests {
    @Test func happyPathEmitsCreatedStartedProgressSuccessEnded() {
        var d = Driver(spec: twoStepSpec())
        #expect(d.feed(.start) == [.requestSlot])
        #expect(d.feed(.slotGranted) == [.acquireProvider(attempt: 1)])
        let afterAcquire = d.feed(.providerAcquired(provider))
        #expect(afterAcquire.count == 2 && afterAcquire.last == .runStep(index: 0))
        #expect(d.feed(.stepFinished(ok(0))).last == .runStep(index: 1))
        let last = d.feed(.stepFinished(ok(1)))
        #expect(last.last == .releaseRental(healthy: true))
        #expect(d.feed(.cleanupFinished).last == .finish)
        #expect(d.events == [.created, .started, .progress, .progress, .success, .ended])
        #expect(d.machine.state == .done)
        #expect(d.machine.result?.output == "hi\n")
        #expect(d.trace.violation == nil)
    }

    @Test func streamedOutputIsAProgressEventOnlyWhileItsStepRuns() {
        var d = Driver(spec: twoStepSpec())
        let piece = StepOutput(step: 0, stream: .stdout, text: "a\n")
        #expect(d.feed(.stepOutput(piece)).isEmpty) // not started
        d.feed(.start)
        d.feed(.slotGranted)
        d.feed(.providerAcquired(provider))
        let emitted = d.feed(.stepOutput(piece))
        guard case .emit(let event)? = emitted.first, emitted.count == 1 else {
            Issue.record("expected one event, got \(emitted)")
            return
        }
        #expect(event.kind == .progress && event.output == piece && event.step == nil && event.state == .pending)
        #expect(d.feed(.stepOutput(StepOutput(step: 1, stream: .stdout, text: "early"))).isEmpty)
        d.feed(.stepFinished(ok(0)))
        #expect(d.feed(.stepOutput(piece)).isEmpty) // step 0 is over
        d.feed(.cancelRequested(reason: nil))
        #expect(d.feed(.stepOutput(StepOutput(step: 1, stream: .stderr, text: "late"))).isEmpty)
        #expect(d.events == [.created, .started, .progress, .progress, .canceled])
        #expect(d.trace.violation == nil)
    }

    @Test func nonZeroExitFailsWithCommandFailedAndIsNotRetried() {
        var d = Driver(spec: twoStepSpec(maxAttempts: 3))
        d.feed(.start); d.feed(.slotGranted); d.feed(.providerAcquired(provider))
        let actions = d.feed(.stepFinished(ok(0, exit: 3)))
        #expect(actions.contains(.releaseRental(healthy: false)))
        #expect(!actions.contains { if case .scheduleBackoff = $0 { true } else { false } })
        d.drain()
        #expect(d.events == [.created, .started, .progress, .error, .ended])
        #expect(d.machine.error?.code == .commandFailed)
        #expect(d.machine.error?.step == 0)
        #expect(d.machine.error?.message.contains("step 0") == true)
        #expect(d.machine.error?.message.contains("code 3") == true)
        #expect(d.machine.attempt == 1)
    }

    @Test func allowFailureRecordsTheExitAndGoesOn() {
        var d = Driver(spec: twoStepSpec(allowFailure: true))
        d.feed(.start); d.feed(.slotGranted); d.feed(.providerAcquired(provider))
        d.feed(.stepFinished(ok(0, exit: 1)))
        d.drain()
        #expect(d.machine.state == .done)
        #expect(d.machine.result?.steps.first?.exitCode == 1)
    }

    @Test func retryableAcquireFailureBacksOffAndStartsTheNextAttempt() {
        var d = Driver(spec: twoStepSpec(maxAttempts: 3))
        d.feed(.start); d.feed(.slotGranted)
        #expect(d.feed(.acquireFailed(JobError(.providerFailed, "offer expired"))) == [.scheduleBackoff(afterAttempt: 1)])
        #expect(d.machine.retriedFailure == JobError(.providerFailed, "offer expired"))
        #expect(d.feed(.backoffElapsed) == [.acquireProvider(attempt: 2)])
        d.feed(.providerAcquired(provider))
        d.drain()
        #expect(d.events == [.created, .started, .progress, .progress, .success, .ended])
        #expect(d.machine.attempt == 2)
        #expect(d.trace.violation == nil)
    }

    @Test func retryableStepFailureReleasesTheRentalUnhealthyBeforeBackoff() {
        var d = Driver(spec: twoStepSpec(maxAttempts: 2))
        d.feed(.start); d.feed(.slotGranted); d.feed(.providerAcquired(provider))
        #expect(d.feed(.stepFailed(JobError(.providerFailed, "activity died"))) == [.releaseRental(healthy: false)])
        #expect(d.feed(.cleanupFinished) == [.scheduleBackoff(afterAttempt: 1)])
        #expect(d.feed(.backoffElapsed) == [.acquireProvider(attempt: 2)])
        d.feed(.providerAcquired(provider))
        #expect(d.feed(.stepFailed(JobError(.providerFailed, "again"))) == [
            .emit(JobEvent(jobId: "job-1", kind: .error, state: .rejected, attempt: 2, time: t0, provider: provider,
                           error: JobError(.providerFailed, "again", step: 0))),
            .releaseRental(healthy: false),
        ])
        d.drain()
        #expect(d.events == [.created, .started, .started, .error, .ended])
        #expect(d.trace.violation == nil)
    }

    @Test func noProviderIsNotRetried() {
        var d = Driver(spec: twoStepSpec(maxAttempts: 5))
        d.feed(.start); d.feed(.slotGranted)
        d.feed(.acquireFailed(JobError(.noProvider, "no offer matched")))
        #expect(d.events == [.created, .error, .ended])
        #expect(d.machine.error?.code == .noProvider)
    }

    @Test func previousAttemptsContinueTheNumbering() {
        var d = Driver(spec: twoStepSpec(maxAttempts: 3), previousAttempts: 2)
        #expect(d.machine.attempt == 2)
        d.feed(.start)
        #expect(d.feed(.slotGranted) == [.acquireProvider(attempt: 3)])
        // The last attempt: a retryable failure is final now.
        d.feed(.acquireFailed(JobError(.providerFailed, "gone")))
        #expect(d.events == [.created, .error, .ended])
        #expect(d.machine.error?.code == .providerFailed)
    }

    @Test func noAttemptLeftAfterARestartIsAnInterruptedError() {
        var d = Driver(spec: twoStepSpec(maxAttempts: 2), previousAttempts: 2)
        d.feed(.start)
        #expect(d.events == [.created, .error, .ended])
        #expect(d.machine.error?.code == .interrupted)
    }

    @Test func cancelWhileAcquiringEmitsCanceledAtOnceAndEndsAfterTheAcquireReturns() {
        var d = Driver(spec: twoStepSpec())
        d.feed(.start); d.feed(.slotGranted)
        let actions = d.feed(.cancelRequested(reason: "user asked"))
        #expect(actions.contains(.cancelWork))
        #expect(d.events == [.created, .canceled])
        #expect(d.machine.error == JobError(.canceled, "canceled: user asked"))
        // The acquire raced and returned a provider anyway: it is released, then the job ends.
        #expect(d.feed(.providerAcquired(provider)) == [.releaseRental(healthy: false)])
        #expect(d.events == [.created, .canceled])
        #expect(d.feed(.cleanupFinished).last == .finish)
        #expect(d.events == [.created, .canceled, .ended])
        #expect(d.machine.state == .rejected)
    }

    @Test func stepTimeoutAndJobTimeoutFailWithTimeout() {
        var d = Driver(spec: twoStepSpec(timeout: .seconds(60), stepTimeout: .seconds(5)))
        d.feed(.start); d.feed(.slotGranted)
        #expect(d.feed(.providerAcquired(provider)).contains(.scheduleTimer(.step(index: 0), after: .seconds(5))))
        d.feed(.stepTimeoutFired(index: 0))
        d.drain()
        #expect(d.events == [.created, .started, .error, .ended])
        #expect(d.machine.error?.code == .timeout)
        #expect(d.machine.error?.step == 0)

        var j = Driver(spec: twoStepSpec(timeout: .seconds(60)))
        j.feed(.start)
        j.feed(.timeoutFired)
        #expect(j.events == [.created, .error, .ended])
        #expect(j.machine.error?.code == .timeout)
        #expect(j.machine.error?.message.contains("60 s") == true)
    }

    @Test func jobTimerIsScheduledAtCreation() {
        var machine = JobLifecycle(jobId: "j", spec: twoStepSpec(timeout: .seconds(30)))
        let actions = machine.begin(now: t0)
        #expect(actions.count == 2)
        #expect(actions.last == .scheduleTimer(.job, after: .seconds(30)))
    }

    @Test func suspendStopsWorkWithoutAnOutcome() {
        var d = Driver(spec: twoStepSpec())
        d.feed(.start); d.feed(.slotGranted); d.feed(.providerAcquired(provider))
        #expect(d.feed(.suspend) == [.cancelWork])
        #expect(d.feed(.stepFailed(JobError(.interrupted, "killed"))) == [.releaseRental(healthy: false)])
        #expect(d.feed(.cleanupFinished) == [.finish])
        #expect(d.events == [.created, .started])
        #expect(d.machine.isSuspended)
        #expect(d.machine.state == .pending)
        #expect(d.trace.violation == nil)
    }

    @Test func lateInputsAfterTheEndDoNothing() {
        var d = Driver(spec: twoStepSpec(maxAttempts: 2, timeout: .seconds(9), stepTimeout: .seconds(1)))
        d.drain()
        #expect(d.machine.isFinished)
        for input in allInputs {
            #expect(d.feed(input).isEmpty)
        }
        #expect(d.trace.violation == nil)
    }

    @Test func cancelTwiceIsHarmlessAndCancelAfterSuccessHasNoEffect() {
        var d = Driver(spec: twoStepSpec())
        d.feed(.cancelRequested(reason: nil))
        #expect(d.feed(.cancelRequested(reason: "again")).isEmpty)
        #expect(d.feed(.start).isEmpty)
        #expect(d.events == [.created, .canceled, .ended])

        var s = Driver(spec: twoStepSpec())
        s.feed(.start); s.feed(.slotGranted); s.feed(.providerAcquired(provider))
        s.feed(.stepFinished(ok(0))); s.feed(.stepFinished(ok(1)))
        #expect(s.feed(.cancelRequested(reason: "late")).isEmpty)
        s.drain()
        #expect(s.events == [.created, .started, .progress, .progress, .success, .ended])
    }

    // MARK: - Every interleaving

    private var allInputs: [JobLifecycle.Input] {
        [
            .start, .slotGranted, .providerAcquired(provider), .acquireFailed(JobError(.providerFailed, "x")),
            .stepFinished(ok(0)), .stepFinished(ok(1)), .stepFailed(JobError(.providerFailed, "y")),
            .cancelRequested(reason: "r"), .timeoutFired, .stepTimeoutFired(index: 0), .backoffElapsed,
            .cleanupFinished, .suspend, .stepOutput(StepOutput(step: 0, stream: .stdout, text: "x")),
        ]
    }

    static let disruptors: [JobLifecycle.Input] = [
        .cancelRequested(reason: "user"), .timeoutFired, .stepTimeoutFired(index: 0),
        .stepFailed(JobError(.providerFailed, "activity lost")), .acquireFailed(JobError(.providerFailed, "no agreement")),
        .stepFinished(ok(0, exit: 2)), .suspend, .backoffElapsed,
    ]

    /// All orders of a successful run's inputs mixed with up to two disruptions, each finished by a
    /// faithful executor: every run keeps the event invariant and ends (or is suspended).
    /// Runs off the cooperative pool (two threads here): the other suites' jobs must not starve.
    @Test func everyInterleavingKeepsTheEventInvariant() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let thread = Thread {
                Self.checkEveryInterleaving(maxAttempts: 1)
                Self.checkEveryInterleaving(maxAttempts: 2)
                continuation.resume()
            }
            thread.start()
        }
    }

    static func checkEveryInterleaving(maxAttempts: Int) {
        let base: [JobLifecycle.Input] = [
            .start, .slotGranted, .providerAcquired(provider), .stepFinished(ok(0)), .stepFinished(ok(1)), .cleanupFinished,
        ]
        var subsets: [[JobLifecycle.Input]] = Self.disruptors.map { [$0] }
        for i in Self.disruptors.indices {
            for j in Self.disruptors.indices where j > i { subsets.append([Self.disruptors[i], Self.disruptors[j]]) }
        }
        var runs = 0
        var outcomes: [JobEvent.Kind: Int] = [:]
        var firstViolation: String?
        for extra in subsets {
            let start = Driver(spec: twoStepSpec(maxAttempts: maxAttempts, timeout: .seconds(60), stepTimeout: .seconds(5)))
            Self.permute(start, remaining: base + extra) { driver in
                var finished = driver
                finished.drain()
                runs += 1
                let trace = finished.trace
                if firstViolation == nil {
                    if let violation = trace.violation {
                        firstViolation = "\(violation) [extra \(extra)]"
                    } else if !finished.machine.isFinished {
                        firstViolation = "not finished: \(trace.kinds) phase \(finished.machine.phase) [extra \(extra)]"
                    } else if !finished.machine.isSuspended && !(trace.outcome != nil && trace.ended && trace.kinds.last == .ended) {
                        firstViolation = "no outcome+ended: \(trace.kinds) [extra \(extra)]"
                    }
                }
                if let outcome = trace.outcome?.kind { outcomes[outcome, default: 0] += 1 }
            }
        }
        #expect(firstViolation == nil)
        #expect(runs > 100_000, "maxAttempts \(maxAttempts)")
        // Each outcome is reachable.
        #expect(outcomes[.success, default: 0] > 0)
        #expect(outcomes[.error, default: 0] > 0)
        #expect(outcomes[.canceled, default: 0] > 0)
    }

    /// Depth-first over distinct orders of `remaining`, sharing prefixes (the machine is a value).
    static func permute(_ driver: Driver, remaining: [JobLifecycle.Input], leaf: (Driver) -> Void) {
        if remaining.isEmpty { return leaf(driver) }
        var tried: [JobLifecycle.Input] = []
        for (i, input) in remaining.enumerated() where !tried.contains(input) {
            tried.append(input)
            var next = driver
            next.feed(input)
            var rest = remaining
            rest.remove(at: i)
            permute(next, remaining: rest, leaf: leaf)
        }
    }

    /// A faithful executor, disrupted once at every point of its run: the disruption decides the outcome
    /// whenever it lands before the outcome.
    @Test(arguments: [
        (JobLifecycle.Input.cancelRequested(reason: "stop"), JobEvent.Kind.canceled, JobError.Code.canceled),
        (.timeoutFired, .error, .timeout),
    ])
    func disruptionAtEveryPointOfAFaithfulRun(disruption: JobLifecycle.Input, expected: JobEvent.Kind, code: JobError.Code) {
        var reference = Driver(spec: twoStepSpec(timeout: .seconds(60)))
        var length = 0
        while reference.nextFaithfulInput() != nil { reference.drainOne(); length += 1 }
        for point in 0...length {
            var d = Driver(spec: twoStepSpec(timeout: .seconds(60)))
            for _ in 0..<point { d.drainOne() }
            let outcomeBefore = d.trace.outcome
            d.feed(disruption)
            d.drain()
            #expect(d.trace.violation == nil)
            #expect(d.trace.kinds.last == .ended)
            if outcomeBefore == nil {
                #expect(d.trace.outcome?.kind == expected, "point \(point)")
                #expect(d.machine.error?.code == code)
            } else {
                #expect(d.trace.outcome?.kind == .success)
            }
        }
    }
}

extension Driver {
    mutating func drainOne() {
        if let input = nextFaithfulInput() { feed(input) }
    }
}
