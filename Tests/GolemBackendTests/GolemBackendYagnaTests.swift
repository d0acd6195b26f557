import Foundation
import GolemLocalTestSupport
import GolemJobs
import JSONModel
import Logging
import Testing
import Yagna
@testable import GolemBackend

let testLogger = Logger(label: "golem-backend-test")

/// The Golem backend against the real yagna of scripts/golem-local, with the provider played over the
/// provider node's REST API. Each test uses its own subnet, so offers of other tests never match.
@Suite(.serialized) struct GolemBackendYagnaTests {
    let net: GolemLocal
    let subnet = "test-\(UUID().uuidString.prefix(8).lowercased())"
    let directory: String

    init() throws {
        net = try GolemLocal.load()
        directory = NSTemporaryDirectory() + "golem-backend-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    func backend(budget: Decimal = 5, negotiation: Duration = .seconds(15), pool: RentalPoolPolicy = RentalPoolPolicy()) throws -> (GolemBackend, SQLiteRentalStore) {
        let configuration = GolemBackendConfiguration(
            yagna: net.requestor, paymentPlatform: net.values["GOLEM_LOCAL_PAYMENT_PLATFORM"], subnet: subnet,
            budget: budget,
            defaultPackage: PackageSpec(imageHash: String(repeating: "d", count: 56), imageUrl: "http://127.0.0.1:1/image.gvmi"),
            negotiationTimeout: negotiation, pollInterval: .seconds(1), cleanupTimeout: .seconds(5), pool: pool,
            statePath: directory + "/state.sqlite"
        )
        let store = try SQLiteRentalStore(path: configuration.statePath)
        return (GolemBackend(configuration: configuration, store: store, logger: testLogger), store)
    }

    var requestor: YagnaClient { YagnaClient(configuration: net.requestor, logger: testLogger) }

    let spec = JobSpec(work: [.run(RunStep(.shell("echo hi")))])

    @Test func anApprovedAgreementWhoseProviderCannotRunFailsAsProviderFailedAndIsEndedAndPaid() async throws {
        let provider = PlayedProvider(net: net, subnet: subnet)
        try await provider.start(coeffs: [0.0001, 0.00002, 0.0])
        let (backend, store) = try backend()
        try await backend.start()
        let payments = Task { await backend.runPayments() }
        defer { payments.cancel() }

        let error = await #expect(throws: JobError.self) {
            _ = try await backend.acquire(jobId: "j1", spec: spec, attempt: 1, logger: testLogger)
        }
        // The negotiation reached an Approved agreement and an activity; deploy fails (no exe-unit).
        #expect(error?.code == .providerFailed)
        #expect(error?.message.contains("did not take the commands") == true)
        let approved = await provider.approved
        let activities = await provider.activities
        #expect(approved.count == 1)
        #expect(activities.count == 1)

        // The provider invoices the ended agreement; the payment loop accepts it; shutdown then
        // finds nothing owed and releases the allocation.
        let agreementId = try #require(approved.first)
        try await provider.invoice(agreementId: agreementId, activityIds: activities, amount: "0.001")
        let allocationId = try #require(try await store.allocationId())
        await backend.shutdown(invoiceGrace: .seconds(30))
        await provider.stop()

        let agreement = try await requestor.agreement(agreementId)
        #expect(agreement.state == "Terminated")
        let left = try await store.leftovers()
        #expect(left.agreements.isEmpty && left.activities.isEmpty)
        #expect(try await store.agreements().isEmpty, "the invoice was accepted")
        #expect(try await store.allocationId() == nil)
        let released = await #expect(throws: YagnaError.self) { _ = try await requestor.allocation(allocationId) }
        #expect(released?.code == .notFound || released?.code == .conflict)
    }

    @Test func cancelWhileNegotiatingReturnsPromptlyAndUnsubscribesTheDemand() async throws {
        let (backend, _) = try backend(negotiation: .seconds(600))
        try await backend.start()
        let attempt = Task { try await backend.acquire(jobId: "j2", spec: spec, attempt: 1, logger: testLogger) }
        // Wait until our demand (this test's subnet) is on the market; no provider in it answers.
        while try await ourDemands().isEmpty {
            try await Task.sleep(for: .milliseconds(50))
        }
        attempt.cancel()
        let result = await attempt.result
        #expect(throws: CancellationError.self) { try result.get() }
        await backend.shutdown(invoiceGrace: .zero)
        #expect(try await ourDemands().isEmpty, "the demand was unsubscribed")
    }

    /// A restarted yagna forgets demand subscriptions (they live in memory; events then answer 404
    /// "Subscription … not found", measured with `scripts/golem-local restart-node requestor`).
    /// Unsubscribing the demand behind the backend's back gives the same answer, without a restart.
    @Test func aDemandYagnaForgetsIsSubscribedAgainAndTheNegotiationGoesOn() async throws {
        let (backend, store) = try backend(negotiation: .seconds(30))
        try await backend.start()
        let payments = Task { await backend.runPayments() }
        defer { payments.cancel() }
        let attempt = Task { try await backend.acquire(jobId: "j6", spec: spec, attempt: 1, logger: testLogger) }
        var first: [String] = []
        while first.isEmpty {
            try await Task.sleep(for: .milliseconds(50))
            first = try await ourDemands()
        }
        try await requestor.send(.DELETE, "/market-api/v1/demands/\(first[0])")
        // The only provider comes after: only a demand subscribed again can meet it.
        let provider = PlayedProvider(net: net, subnet: subnet)
        try await provider.start(coeffs: [0.0001, 0.00002, 0.0])
        let error = await #expect(throws: JobError.self) { _ = try await attempt.value }
        // The negotiation went on to an agreement; deploy then fails (the played provider has no exe-unit).
        #expect(error?.message.contains("did not take the commands") == true, "\(String(describing: error))")
        let approved = await provider.approved
        #expect(approved.count == 1)
        #expect(try await !ourDemands().contains(first[0]))

        if let agreementId = approved.first {
            try await provider.invoice(agreementId: agreementId, activityIds: await provider.activities, amount: "0.001")
        }
        await backend.shutdown(invoiceGrace: .seconds(30))
        await provider.stop()
        #expect(try await store.agreements().isEmpty, "the invoice was accepted")
        #expect(try await ourDemands().isEmpty, "the demand subscribed again was unsubscribed too")
    }

    /// Demands on the requestor node in this test's subnet (other suites may have their own).
    func ourDemands() async throws -> [String] {
        struct Demand: Decodable { var demandId: String; var properties: [String: JSONValue] }
        return try await requestor.json(.GET, "/market-api/v1/demands", as: [Demand].self)
            .filter { $0.properties["golem.node.debug.subnet"] == .string(subnet) }.map(\.demandId)
    }

    @Test func offersOverTheJobsPriceLimitsAreBudgetExceeded() async throws {
        let provider = PlayedProvider(net: net, subnet: subnet)
        try await provider.start(coeffs: [0.01, 0.001, 1.0])  // 36 GLM/h CPU
        let (backend, store) = try backend(negotiation: .seconds(4))
        try await backend.start()
        var cheap = spec
        cheap.market = MarketSpec(rentHours: 0.5, pricing: .linear(maxStartPrice: 0.1, maxCpuPerHourPrice: 1, maxEnvPerHourPrice: 1))
        let error = await #expect(throws: JobError.self) {
            _ = try await backend.acquire(jobId: "j3", spec: cheap, attempt: 1, logger: testLogger)
        }
        #expect(error?.code == .budgetExceeded)
        #expect(error?.message.contains("price limits") == true)
        #expect(try await store.agreements().isEmpty)
        await backend.shutdown(invoiceGrace: .zero)
        await provider.stop()
        #expect(await provider.approved.isEmpty)
    }

    @Test func anOfferThatCouldCostMoreThanTheBudgetIsNeverSigned() async throws {
        let provider = PlayedProvider(net: net, subnet: subnet)
        try await provider.start(coeffs: [0.0001, 0.00002, 0.0])  // up to 0.2 GLM over 0.5 h on 2 threads
        let (backend, store) = try backend(budget: Decimal(string: "0.01")!, negotiation: .seconds(4))
        try await backend.start()
        let error = await #expect(throws: JobError.self) {
            _ = try await backend.acquire(jobId: "j4", spec: spec, attempt: 1, logger: testLogger)
        }
        #expect(error?.code == .budgetExceeded)
        #expect(error?.message.contains("budget") == true)
        #expect(try await store.agreements().isEmpty)
        await backend.shutdown(invoiceGrace: .zero)
        await provider.stop()
        #expect(await provider.approved.isEmpty)
    }

    @Test func aRestartTerminatesTheAgreementACrashLeftRentedAndReusesTheAllocation() async throws {
        let provider = PlayedProvider(net: net, subnet: subnet)
        try await provider.start(coeffs: [0.0001, 0.00002, 0.0])
        let (crashed, store) = try backend()
        try await crashed.start()
        let allocationId = try #require(try await store.allocationId())
        // The crashed run had negotiated an agreement and recorded it; it never ended it.
        let agreementId = try await negotiate(provider: provider, allocationId: allocationId)
        try await store.recordAgreement(agreementId, providerId: net.providerId)
        try await store.recordActivity("0000000000000000000000000000dead", agreementId: agreementId)
        #expect(try await requestor.agreement(agreementId).state == "Approved")

        // The next start (a new backend on the same state file) ends it and keeps the allocation.
        let (restarted, _) = try self.backend()
        try await restarted.start()
        #expect(try await requestor.agreement(agreementId).state == "Terminated")
        #expect(try await store.allocationId() == allocationId)
        let left = try await store.leftovers()
        #expect(left.agreements.isEmpty && left.activities.isEmpty)
        #expect(try await store.agreements() == [agreementId], "its invoice is still owed")
        await restarted.shutdown(invoiceGrace: .zero)
        await provider.stop()
    }

    /// The requestor side by hand up to an Approved agreement (what a crashed bridge left behind).
    func negotiate(provider: PlayedProvider, allocationId: String) async throws -> String {
        let client = requestor
        let builder = DemandBuilder(
            subnet: subnet, platform: net.values["GOLEM_LOCAL_PAYMENT_PLATFORM"] ?? "", debitNoteAcceptTimeout: 240,
            debitNoteInterval: 120, paymentTimeout: 12 * 3600
        )
        let decorations = try await client.demandDecorations(allocationIds: [allocationId])
        let demand = builder.demand(package: PackageSpec(imageTag: "x/y:z"), taskPackage: "hash:sha3:dd:http://127.0.0.1:1/i", market: MarketSpec(rentHours: 0.5), decorations: decorations, now: Date())
        let subscription = try await client.subscribeDemand(demand)
        defer { Task { try? await client.unsubscribeDemand(subscription) } }
        var countered: Set<String> = []
        while true {
            for event in try await client.demandEvents(subscription, timeout: .seconds(1)) {
                guard case .proposal(let proposal) = event else { continue }
                if proposal.state == "Initial" {
                    countered.insert(try await client.counterProposal(subscription, proposalId: proposal.proposalId, demand: builder.counter(demand)))
                } else if let previous = proposal.prevProposalId, countered.contains(previous) {
                    let id = try await client.createAgreement(proposalId: proposal.proposalId, validTo: Date().addingTimeInterval(1800))
                    try await client.confirmAgreement(id, appSessionId: "crashed")
                    try await client.waitForApproval(id, timeout: .seconds(15))
                    return id
                }
            }
        }
    }
}
