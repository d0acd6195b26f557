import GolemJobs
import Logging
import Synchronization

/// One job attempt's use of a ``Lease``: runs its steps as ExeScript batches and gives the lease back
/// to the pool (healthy) or ends it (after a failure or cancel). The last step's batch also empties
/// the work folder when it can (a `run` step that succeeds), so a warm job costs one batch in all.
///
/// A lease lent again from the pool is not checked before the job (that was a state call and a
/// batch, more than the job's own batch): the job's first batch is the check. If yagna refuses
/// that batch (``BatchNotTaken``: none of its commands ran) and the activity is gone, the lease is
/// ended and the step runs on another rental, within the same attempt; a refusal later in the job,
/// or on a live activity, fails the step as before. Only the first step can move, and only before
/// any command of the job ran on the lease (a `run` step is one batch; a multi-batch first upload or
/// download is written or read again whole, which changes nothing).
final class GolemRental: JobRental {
    let backend: GolemBackend
    let spec: JobSpec
    let jobId: String

    private struct Current {
        var lease: Lease
        /// False while the lease is being replaced, and after `release`.
        var held = true
        var released = false
        /// The activity ran a batch of this job, or is fresh from deploy: no longer moved.
        var proven: Bool
        /// The last step's batch emptied the work folder: lendable again without a cleanup batch.
        var cleaned = false
    }

    private let current: Mutex<Current>

    init(backend: GolemBackend, lease: Lease, spec: JobSpec, jobId: String, proven: Bool) {
        self.backend = backend
        self.spec = spec
        self.jobId = jobId
        self.current = Mutex(Current(lease: lease, proven: proven))
    }

    /// The provider of the lease in use (the engine reads it once, when the job starts).
    var provider: ProviderInfo { current.withLock { $0.lease.provider } }

    var lease: Lease { current.withLock { $0.lease } }

    func run(_ step: WorkStep, index: Int, logger: Logger) async throws -> StepResult {
        try await run(step, index: index, logger: logger, streaming: nil)
    }

    /// A `run` step with `stream` set also tells `output` its stdout and stderr as the provider
    /// streams them (best effort: ``GolemBackend/execute(_:index:on:cleanAfter:output:logger:)``).
    func run(_ step: WorkStep, index: Int, logger: Logger, output: @escaping StepOutputSink) async throws -> StepResult {
        try await run(step, index: index, logger: logger, streaming: output)
    }

    private func run(_ step: WorkStep, index: Int, logger: Logger, streaming output: StepOutputSink?) async throws -> StepResult {
        while true {
            let (lease, held, proven) = current.withLock { ($0.lease, $0.held, $0.proven) }
            guard held else { throw JobError(.internal, "no rental to run step \(index) on", step: index) }
            do {
                let last = index == spec.work.count - 1
                let (result, cleaned) = try await backend.execute(step, index: index, on: lease, cleanAfter: last, output: output, logger: logger)
                current.withLock { $0.proven = true; $0.cleaned = cleaned }
                // Ended for overcharging while the step ran: the result is the cut command's (our agent
                // answers exit code 1, stderr "activity destroyed"), which would fail the job as its
                // own `command_failed`, never retried; it is the provider's failure.
                if let overcharged = overcharged(lease, index: index) { throw overcharged }
                return result
            } catch let refused as BatchNotTaken {
                if let overcharged = overcharged(lease, index: index) { throw overcharged }
                guard !proven, let why = await backend.deadActivity(lease) else {
                    current.withLock { $0.proven = true }
                    throw refused.error
                }
                current.withLock { $0.held = false }
                let (next, reused) = try await backend.replace(lease, why: why, jobId: jobId, spec: spec, logger: logger)
                let released = current.withLock { state in
                    if !state.released { state = Current(lease: next, proven: !reused) }
                    return state.released
                }
                if released {
                    await backend.giveBack(next, healthy: false)
                    throw CancellationError()
                }
            } catch {
                current.withLock { $0.proven = true }
                if !(error is CancellationError), let overcharged = overcharged(lease, index: index) { throw overcharged }
                throw error
            }
        }
    }

    /// The step failed because the backend ended the rental for a debit note over the agreed
    /// prices (``GolemBackend/condemn(_:why:)``): that is the cause to name, not the dead activity.
    private func overcharged(_ lease: Lease, index: Int) -> JobError? {
        backend.condemnation(lease.agreementId).map { why in
            JobError(.providerFailed, "provider \(lease.provider.name) sent a debit note over the agreed prices, so its rental was ended: \(why)", step: index)
        }
    }

    func release(healthy: Bool) async {
        let (lease, cleaned) = current.withLock { state -> (Lease?, Bool) in
            defer { state.held = false; state.released = true }
            return (state.held ? state.lease : nil, state.cleaned)
        }
        if let lease { await backend.giveBack(lease, healthy: healthy, cleaned: cleaned) }
    }
}
