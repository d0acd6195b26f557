import Foundation
import GolemJobs
import Testing
@testable import GolemBackend

/// Pre-fill to `minSize` against the real yagna, with the played provider (which approves agreements
/// but cannot deploy: every pre-fill fails after signing).
extension GolemBackendYagnaTests {
    @Test func aPreFillThatFailsIsRetriedAndItsRentalsReserveTheBudgetLikeAnyOther() async throws {
        let provider = PlayedProvider(net: net, subnet: subnet)
        try await provider.start(coeffs: [0.0001, 0.00002, 0.0])  // reserves 0.396 GLM for 0.5 h
        // Room for two reservations, not three.
        let (backend, _) = try backend(
            budget: Decimal(string: "0.9")!, negotiation: .seconds(2),
            pool: RentalPoolPolicy(maxSize: 2, minSize: 1, fillRetryDelay: .milliseconds(100), fillRetryMaxDelay: .milliseconds(200))
        )
        try await backend.start()
        let fill = Task { await backend.keepMinimum(checkEvery: .milliseconds(100)) }

        // The first fill signs, fails to deploy and is ended; the loop tries again and signs another.
        let deadline = ContinuousClock.now + .seconds(40)
        while await provider.approved.count < 2, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(await provider.approved.count == 2)
        // Both ended agreements still hold their reservation (no invoice yet): a third does not fit,
        // so the retries go on without signing anything.
        try await Task.sleep(for: .seconds(5))
        #expect(await provider.approved.count == 2)
        #expect(backend.reserved > Decimal(string: "0.7")! && backend.reserved <= Decimal(string: "0.9")!)
        #expect(backend.poolSize.idle == 0)

        fill.cancel()
        await fill.value
        #expect(backend.poolSize.filling == 0)
        await backend.shutdown(invoiceGrace: .zero)
        await provider.stop()
    }

    @Test func aJobIsNotHeldUpByAPreFillStillNegotiating() async throws {
        let (backend, _) = try backend(negotiation: .seconds(600), pool: RentalPoolPolicy(maxSize: 2, minSize: 1))
        try await backend.start()
        let fill = Task { await backend.keepMinimum() }
        while try await ourDemands().isEmpty {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(backend.poolSize.filling == 1)
        // No provider answers: the job negotiates on its own demand beside the pool's.
        let attempt = Task { try await backend.acquire(jobId: "j-beside-fill", spec: spec, attempt: 1, logger: testLogger) }
        while try await ourDemands().count < 2 {
            try await Task.sleep(for: .milliseconds(50))
        }
        attempt.cancel()
        _ = await attempt.result
        // Shutdown cancels the fill promptly and leaves no demand behind.
        let clock = ContinuousClock()
        let start = clock.now
        fill.cancel()
        await fill.value
        #expect(clock.now - start < .seconds(5))
        await backend.shutdown(invoiceGrace: .zero)
        #expect(try await ourDemands().isEmpty, "the demands were unsubscribed")
        #expect(backend.poolSize == (0, 0, 0))
    }
}
