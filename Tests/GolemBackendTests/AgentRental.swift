import Foundation
import GolemJobs
import GolemLocalTestSupport
import Testing
import Yagna
@testable import GolemBackend

/// A Golem backend on the local network renting from our provider agent (`golem-bridge provider`)
/// on `subnet`, for tests that run steps on a real rental.
enum AgentRental {
    /// One rental for `spec`, given to `body`; the backend and the agent are stopped after it.
    /// `adjust` changes the backend's configuration first.
    static func with(
        net: GolemLocal, subnet: String, directory: String, spec: JobSpec, jobId: String,
        adjust: (inout GolemBackendConfiguration) -> Void = { _ in }, _ body: (GolemRental) async throws -> Void
    ) async throws {
        try await withBackend(net: net, subnet: subnet, directory: directory, adjust: adjust) { backend in
            let rental = try #require(try await backend.acquire(jobId: jobId, spec: spec, attempt: 1, logger: testLogger) as? GolemRental)
            try await body(rental)
            await rental.release(healthy: true)
        }
    }

    /// A started backend and our agent (with `agentArguments`), given to `body`; both are stopped after it.
    static func withBackend(
        net: GolemLocal, subnet: String, directory: String, agentArguments: [String] = [],
        adjust: (inout GolemBackendConfiguration) -> Void = { _ in }, _ body: (GolemBackend) async throws -> Void
    ) async throws {
        let agent = try ProviderAgent(net: net, subnet: subnet, directory: directory, arguments: agentArguments)
        var configuration = GolemBackendConfiguration(
            yagna: net.requestor, paymentPlatform: net.values["GOLEM_LOCAL_PAYMENT_PLATFORM"], subnet: subnet, budget: 5,
            defaultPackage: PackageSpec(imageHash: String(repeating: "d", count: 56), imageUrl: "http://127.0.0.1:1/image.gvmi"),
            negotiationTimeout: .seconds(60), pollInterval: .seconds(1), cleanupTimeout: .seconds(5),
            statePath: directory + "/state.sqlite"
        )
        adjust(&configuration)
        let backend = GolemBackend(configuration: configuration, store: try SQLiteRentalStore(path: configuration.statePath), logger: testLogger)
        func stop() async {
            await backend.shutdown(invoiceGrace: .zero)
            await agent.stop()
        }
        do {
            try await backend.start()
            try await body(backend)
        } catch {
            await stop()
            throw error
        }
        await stop()
    }
}
