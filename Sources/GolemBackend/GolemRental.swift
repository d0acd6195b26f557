import GolemJobs
import Logging

/// One job attempt's use of a ``Lease``: runs its steps as ExeScript batches and gives the lease back
/// to the pool (healthy) or ends it (after a failure or cancel).
struct GolemRental: JobRental {
    let backend: GolemBackend
    let lease: Lease

    var provider: ProviderInfo { lease.provider }

    func run(_ step: WorkStep, index: Int, logger: Logger) async throws -> StepResult {
        try await backend.execute(step, index: index, on: lease, logger: logger)
    }

    func release(healthy: Bool) async {
        await backend.giveBack(lease, healthy: healthy)
    }
}
