import Foundation
import GolemJobs
import Testing
@testable import GolemBackend

/// A rental ended for a debit note over the agreed prices (``GolemBackend/condemn(_:why:)``, which
/// the payment loop calls; `GolemBackendYagnaTests+Payments` drives it with a played provider's
/// note) while our agent runs a job's step on it.
extension GolemBackendPoolTests {
    @Test func aRentalEndedForOverchargingStopsTheRunningStepWhichNamesTheCause() async throws {
        try await withPool { backend in
            let spec = JobSpec(work: [.run(RunStep(.shell("sleep 120")))])
            let rental = try #require(try await backend.acquire(jobId: "overcharged", spec: spec, attempt: 1, logger: testLogger) as? GolemRental)
            let step = Task { try await rental.run(spec.work[0], index: 0, logger: testLogger) }
            // Let the batch start (had the rental ended before, the refused batch would fail the same way).
            try await Task.sleep(for: .seconds(2))
            let ended = ContinuousClock.now
            backend.condemn(rental.lease.agreementId, why: "1 GLM is more than the 0.0001 GLM the agreed prices allow for 32 s")
            let error = await #expect(throws: JobError.self) {
                let result = try await step.value
                print("overcharge: the step returned \(result)")
            }
            print("overcharge: the running step failed \(ContinuousClock.now - ended) after its rental was ended")
            #expect(error?.code == .providerFailed)
            #expect(error?.message.contains("sent a debit note over the agreed prices") == true, "\(String(describing: error))")
            await rental.release(healthy: true)
            #expect(backend.poolSize == (idle: 0, busy: 0, filling: 0))
        }
    }
}
