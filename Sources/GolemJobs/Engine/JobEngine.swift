import CoreMetrics
import Foundation
import Logging
import Synchronization

/// Creates and runs jobs on one backend: golem-js's `GolemNetwork`, done right.
///
/// At most `configuration.concurrency` jobs hold a slot (acquire, run, backoff); started jobs beyond that
/// wait in state `new`, first come first served. Finished jobs stay findable by ``job(id:)`` until
/// `configuration.finishedJobsRetained` newer ones finished; then the oldest finished are forgotten.
/// `metrics` reports how many jobs run and how many wait for a slot.
public actor JobEngine {
    public let configuration: JobEngineConfiguration
    private let backend: any JobBackend
    private let clock: any Clock<Duration>
    private let now: @Sendable () -> Date
    private let logger: Logger
    private let slots: SlotPool

    /// The known jobs, and finished job IDs oldest first (trimmed to `finishedJobsRetained`). Behind a
    /// lock, not the actor, so a finishing job records itself without a Task and a hop per job.
    private let registry = Mutex<(jobs: [String: Job], finishedOrder: [String])>(([:], []))
    private var closed = false

    public init(
        configuration: JobEngineConfiguration,
        backend: any JobBackend,
        clock: any Clock<Duration> = ContinuousClock(),
        now: @escaping @Sendable () -> Date = { Date() },
        metrics: JobEngineMetrics? = nil,
        logger: Logger
    ) {
        self.configuration = configuration
        self.backend = backend
        self.clock = clock
        self.now = now
        self.logger = logger
        self.slots = SlotPool(capacity: configuration.concurrency, metrics: metrics)
    }

    /// Creates a job and emits its `created` (state `new`, attempt `previousAttempts`); call `start()` to run it.
    ///
    /// `previousAttempts` continues the attempt numbering after a bridge restart: the first start is
    /// attempt `previousAttempts + 1`, and `spec.maxAttempts - previousAttempts` attempts are left.
    /// Throws `JobError(.invalidRequest)` if a job with this ID is known, `.interrupted` after `close()`.
    public func createJob(id: String, spec: JobSpec, previousAttempts: Int = 0) throws -> Job {
        if closed { throw JobError(.interrupted, "the job engine is closed; job \(id) was not created") }
        let environment = Job.Environment(
            backend: backend, clock: clock, now: now, retry: configuration.retry, slots: slots, logger: logger,
            onFinish: { [weak self] id in self?.jobFinished(id) }
        )
        let job = Job(id: id, spec: spec, previousAttempts: previousAttempts, environment: environment)
        let added = registry.withLock { registry -> Bool in
            guard registry.jobs[id] == nil else { return false }
            registry.jobs[id] = job
            return true
        }
        if !added { throw JobError(.invalidRequest, "a job with ID \(id) already exists") }
        job.begin()
        return job
    }

    /// golem-js `getJobById`: a running, queued or recently finished job.
    public func job(id: String) -> Job? { registry.withLock { $0.jobs[id] } }

    /// The jobs this engine still knows.
    public var allJobs: [Job] { registry.withLock { Array($0.jobs.values) } }

    /// Graceful shutdown: stops every job that has no outcome yet without emitting one (no `canceled`,
    /// `error` or `ended`): running commands are killed, rentals released, event streams finish. Returns
    /// when all of them stopped. The bridge resumes them after its restart (with `previousAttempts`).
    public func suspendAll() async {
        let live = allJobs.filter { !$0.isFinished }
        for job in live { job.suspend() }
        for job in live { await job.waitUntilFinished() }
    }

    /// Cancels every job and returns when all of them ended; afterwards `createJob` throws.
    public func close() async {
        closed = true
        let live = allJobs.filter { !$0.isFinished }
        for job in live { job.cancel(reason: "the job engine is closing") }
        for job in live { await job.waitUntilFinished() }
    }

    private nonisolated func jobFinished(_ id: String) {
        let retained = configuration.finishedJobsRetained
        registry.withLock { registry in
            guard registry.jobs[id] != nil else { return }
            registry.finishedOrder.append(id)
            let excess = registry.finishedOrder.count - retained
            if excess > 0 {
                for forgotten in registry.finishedOrder.prefix(excess) { registry.jobs.removeValue(forKey: forgotten) }
                registry.finishedOrder.removeFirst(excess)
            }
        }
    }
}
