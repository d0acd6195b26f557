import Foundation
import Synchronization
@testable import GolemJobs
import Logging
import Testing

private func spec(steps: Int = 1, timeout: Duration? = nil, stepTimeout: Duration? = nil, maxAttempts: Int = 1) -> JobSpec {
    JobSpec(
        work: (0..<steps).map { _ in .run(RunStep(.shell("true"), timeout: stepTimeout)) },
        timeout: timeout, maxAttempts: maxAttempts
    )
}

private func engine(_ backend: FakeBackend, clock: ManualClock = ManualClock(), concurrency: Int = 4, retained: Int = 1000) -> JobEngine {
    JobEngine(
        configuration: JobEngineConfiguration(
            concurrency: concurrency,
            retry: RetryPolicy(initialBackoff: .seconds(1), maxBackoff: .seconds(30), multiplier: 2, jitter: 0),
            finishedJobsRetained: retained
        ),
        backend: backend, clock: clock, logger: Logger(label: "test")
    )
}

/// Collects a job's whole event stream (it finishes after `ended` or a suspend).
private func allEvents(_ job: Job) async -> [JobEvent] {
    var events: [JobEvent] = []
    for await event in job.events { events.append(event) }
    return events
}

private func kinds(_ events: [JobEvent]) -> [JobEvent.Kind] { events.map(\.kind) }

@Suite struct JobEngineTests {
    @Test func runsAJobAndWaitForResultReturnsItsResult() async throws {
        let backend = FakeBackend()
        let engine = engine(backend)
        let job = try await engine.createJob(id: "a", spec: spec(steps: 2))
        #expect(job.state == .new)
        job.start()
        let result = try await job.waitForResult()
        #expect(result.steps.map(\.index) == [0, 1])
        #expect(result.output == "out1\n")
        let events = await allEvents(job)
        #expect(kinds(events) == [.created, .started, .progress, .progress, .success, .ended])
        #expect(events[1].attempt == 1 && events[1].provider?.id == "fake-a")
        #expect(events[2].step?.index == 0)
        #expect(job.state == .done)
        #expect(backend.releases.map(\.healthy) == [true])
        #expect(await engine.job(id: "a") === job)
    }

    @Test func duplicateIdIsRejected() async throws {
        let engine = engine(FakeBackend())
        _ = try await engine.createJob(id: "dup", spec: spec())
        await #expect(throws: JobError.self) { try await engine.createJob(id: "dup", spec: spec()) }
    }

    @Test func concurrencyLimitKeepsExtraJobsNewUntilASlotFrees() async throws {
        let backend = FakeBackend(run: { _, _, _ in try await FakeBackend.hang() })
        let engine = engine(backend, concurrency: 2)
        var jobs: [Job] = []
        for i in 0..<3 {
            let job = try await engine.createJob(id: "c\(i)", spec: spec())
            job.start()
            jobs.append(job)
        }
        #expect(await eventually { backend.runningJobs.count == 2 })
        try await Task.sleep(for: .milliseconds(50))
        #expect(backend.runningJobs.count == 2)
        #expect(backend.acquireCount == 2)
        let waiting = jobs.filter { $0.state == .new }
        #expect(waiting.count == 1)
        // Free a slot: the waiting job gets it.
        let running = jobs.first { $0.state == .pending }!
        running.cancel(reason: "make room")
        #expect(await eventually { waiting[0].state == .pending })
        await engine.close()
        for job in jobs { #expect(job.state == .rejected) }
    }

    @Test func cancelWhileQueuedNeverRuns() async throws {
        let backend = FakeBackend(run: { _, _, _ in try await FakeBackend.hang() })
        let engine = engine(backend, concurrency: 1)
        let first = try await engine.createJob(id: "first", spec: spec())
        first.start()
        #expect(await eventually { first.state == .pending })
        let queued = try await engine.createJob(id: "queued", spec: spec())
        queued.start()
        queued.cancel(reason: "not needed")
        let events = await allEvents(queued)
        #expect(kinds(events) == [.created, .canceled, .ended])
        #expect(events[1].error?.code == .canceled)
        #expect(events[1].error?.message.contains("not needed") == true)
        #expect(backend.log.withLock { $0.acquires.map(\.jobId) } == ["first"])
        await #expect(throws: JobError(.canceled, "canceled: not needed")) { try await queued.waitForResult() }
        await engine.close()
    }

    @Test func cancelWhileAcquiringEndsPromptly() async throws {
        let backend = FakeBackend(acquire: { _, _ in try await FakeBackend.hang() })
        let engine = engine(backend)
        let job = try await engine.createJob(id: "acq", spec: spec())
        job.start()
        #expect(await eventually { backend.acquireCount == 1 })
        job.cancel(reason: "no longer wanted")
        let events = await allEvents(job)
        #expect(kinds(events) == [.created, .canceled, .ended])
        #expect(job.state == .rejected)
        #expect(backend.releases.isEmpty)
    }

    @Test func cancelWhileRunningStopsTheStepAndReleasesUnhealthy() async throws {
        let backend = FakeBackend(run: { _, _, _ in try await FakeBackend.hang() })
        let engine = engine(backend)
        let job = try await engine.createJob(id: "run", spec: spec())
        job.start()
        #expect(await eventually { backend.runningJobs.contains("run") })
        job.cancel()
        job.cancel(reason: "twice is harmless")
        let events = await allEvents(job)
        #expect(kinds(events) == [.created, .started, .canceled, .ended])
        #expect(backend.runningJobs.isEmpty)
        #expect(backend.releases.map(\.healthy) == [false])
    }

    @Test func cancelBeforeStart() async throws {
        let backend = FakeBackend()
        let engine = engine(backend)
        let job = try await engine.createJob(id: "early", spec: spec())
        job.cancel()
        job.start()
        #expect(kinds(await allEvents(job)) == [.created, .canceled, .ended])
        #expect(backend.acquireCount == 0)
    }

    @Test func jobTimeoutFromTheInjectedClock() async throws {
        let clock = ManualClock()
        let backend = FakeBackend(run: { _, _, _ in try await FakeBackend.hang() })
        let engine = engine(backend, clock: clock)
        let job = try await engine.createJob(id: "slow", spec: spec(timeout: .seconds(10)))
        job.start()
        #expect(await eventually { backend.runningJobs.contains("slow") })
        try #require(await clock.waitForSleepers(1))
        clock.advance(by: .seconds(9))
        try await Task.sleep(for: .milliseconds(20))
        #expect(job.state == .pending)
        clock.advance(by: .seconds(1))
        let events = await allEvents(job)
        #expect(kinds(events) == [.created, .started, .error, .ended])
        #expect(events[2].error?.code == .timeout)
        #expect(backend.runningJobs.isEmpty)
    }

    @Test func stepTimeoutFromTheInjectedClock() async throws {
        let clock = ManualClock()
        let backend = FakeBackend(run: { _, _, _ in try await FakeBackend.hang() })
        let engine = engine(backend, clock: clock)
        let job = try await engine.createJob(id: "step", spec: spec(stepTimeout: .seconds(2)))
        job.start()
        try #require(await clock.waitForSleepers(1))
        clock.advance(by: .seconds(2))
        let events = await allEvents(job)
        #expect(kinds(events) == [.created, .started, .error, .ended])
        #expect(events[2].error?.code == .timeout)
        #expect(events[2].error?.step == 0)
    }

    @Test func retriesAfterABackendFailureThenSucceeds() async throws {
        let clock = ManualClock()
        let backend = FakeBackend(acquire: { _, attempt in
            if attempt == 1 { throw JobError(.providerFailed, "agreement terminated") }
        })
        let engine = engine(backend, clock: clock)
        let job = try await engine.createJob(id: "retry", spec: spec(maxAttempts: 3))
        job.start()
        try #require(await clock.waitForSleepers(1))   // the backoff
        #expect(job.state == .new)
        clock.advance(by: .seconds(1))
        let result = try await job.waitForResult()
        #expect(result.steps.count == 1)
        let events = await allEvents(job)
        #expect(kinds(events) == [.created, .started, .progress, .success, .ended])
        #expect(events[1].attempt == 2)
        #expect(backend.log.withLock { $0.acquires.map(\.attempt) } == [1, 2])
    }

    @Test func nonJobErrorsAreRetriedAndTheLastOneIsReported() async throws {
        struct Boom: Error {}
        let clock = ManualClock()
        let backend = FakeBackend(run: { _, _, _ in throw Boom() })
        let engine = engine(backend, clock: clock)
        let job = try await engine.createJob(id: "boom", spec: spec(maxAttempts: 2))
        job.start()
        try #require(await clock.waitForSleepers(1))
        clock.advance(by: .seconds(1))
        let events = await allEvents(job)
        #expect(kinds(events) == [.created, .started, .started, .error, .ended])
        #expect(events[3].error?.code == .internal)
        #expect(backend.releases.map(\.healthy) == [false, false])
    }

    @Test func cancelDuringBackoff() async throws {
        let clock = ManualClock()
        let backend = FakeBackend(acquire: { _, _ in throw JobError(.providerFailed, "x") })
        let engine = engine(backend, clock: clock)
        let job = try await engine.createJob(id: "backoff", spec: spec(maxAttempts: 3))
        job.start()
        try #require(await clock.waitForSleepers(1))
        job.cancel(reason: "enough")
        #expect(kinds(await allEvents(job)) == [.created, .canceled, .ended])
        #expect(backend.acquireCount == 1)
    }

    @Test func previousAttemptsContinueNumbering() async throws {
        let engine = engine(FakeBackend())
        let job = try await engine.createJob(id: "resumed", spec: spec(maxAttempts: 3), previousAttempts: 1)
        job.start()
        let events = await allEvents(job)
        #expect(events[0].attempt == 1)
        #expect(events[1].kind == .started && events[1].attempt == 2)
    }

    @Test func suspendAllStopsJobsWithoutAnOutcome() async throws {
        let backend = FakeBackend(run: { _, _, _ in try await FakeBackend.hang() })
        let engine = engine(backend, concurrency: 1)
        let running = try await engine.createJob(id: "r", spec: spec())
        let queued = try await engine.createJob(id: "q", spec: spec())
        running.start(); queued.start()
        #expect(await eventually { backend.runningJobs.contains("r") })
        await engine.suspendAll()
        #expect(kinds(await allEvents(running)) == [.created, .started])
        #expect(kinds(await allEvents(queued)) == [.created])
        #expect(running.state == .pending && queued.state == .new)
        #expect(backend.releases.map(\.healthy) == [false])
        await #expect(throws: JobError.self) { try await running.waitForResult() }
        #expect(running.error == nil)
    }

    @Test func onEventReplaysAndFollows() async throws {
        let engine = engine(FakeBackend())
        let job = try await engine.createJob(id: "h", spec: spec())
        let seen = Mutex<[JobEvent.Kind]>([])
        job.onEvent { event in seen.withLock { $0.append(event.kind) } }
        job.start()
        _ = try await job.waitForResult()
        #expect(seen.withLock { $0 } == [.created, .started, .progress, .success, .ended])
    }

    @Test func finishedJobsAreForgottenBeyondTheRetention() async throws {
        let engine = engine(FakeBackend(), retained: 1)
        let a = try await engine.createJob(id: "a", spec: spec())
        a.start()
        _ = try await a.waitForResult()
        let b = try await engine.createJob(id: "b", spec: spec())
        b.start()
        _ = try await b.waitForResult()
        #expect(await eventually { await engine.job(id: "a") == nil })
        #expect(await engine.job(id: "b") === b)
    }

    @Test func closeCancelsEveryJob() async throws {
        let backend = FakeBackend(run: { _, _, _ in try await FakeBackend.hang() })
        let engine = engine(backend, concurrency: 1)
        let a = try await engine.createJob(id: "a", spec: spec())
        let b = try await engine.createJob(id: "b", spec: spec())
        a.start(); b.start()
        await engine.close()
        #expect(a.isFinished && b.isFinished)
        #expect(a.error?.code == .canceled && b.error?.code == .canceled)
        await #expect(throws: JobError.self) { try await engine.createJob(id: "c", spec: spec()) }
    }
}

@Suite struct RetryPolicyTests {
    @Test func growsExponentiallyUpToTheCap() {
        let policy = RetryPolicy(initialBackoff: .seconds(1), maxBackoff: .seconds(30), multiplier: 2, jitter: 0)
        var random = SystemRandomNumberGenerator()
        let delays = (1...8).map { policy.delay(afterAttempt: $0, random: &random) }
        #expect(delays == [1, 2, 4, 8, 16, 30, 30, 30].map { Duration.seconds($0) })
    }

    @Test func jitterStaysWithinItsFractionAndTheCap() {
        let policy = RetryPolicy(initialBackoff: .seconds(4), maxBackoff: .seconds(5), multiplier: 2, jitter: 0.25)
        var random = SystemRandomNumberGenerator()
        for _ in 0..<1000 {
            let first = policy.delay(afterAttempt: 1, random: &random)
            #expect(first >= .seconds(3) && first <= .seconds(5))
            #expect(policy.delay(afterAttempt: 5, random: &random) <= .seconds(5))
        }
    }

    @Test func sameRandomSourceSameDelays() {
        struct Fixed: RandomNumberGenerator {
            var state: UInt64
            mutating func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state }
        }
        let policy = RetryPolicy()
        var a = Fixed(state: 7), b = Fixed(state: 7)
        #expect((1...5).map { policy.delay(afterAttempt: $0, random: &a) } == (1...5).map { policy.delay(afterAttempt: $0, random: &b) })
    }
}
