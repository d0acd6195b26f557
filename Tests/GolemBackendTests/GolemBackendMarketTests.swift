import Foundation
import GolemJobs
import GolemLocalTestSupport
import JSONModel
import Testing
import Yagna
@testable import GolemBackend

/// A provider node that only plays the market side badly: it answers our counter with a rejection,
/// or never, or unsubscribes its offer when the counter comes (it vanishes). Played over the
/// provider node's REST market API, as `PlayedProvider` plays a good one.
actor MarketPlayer {
    enum Behaviour: Sendable { case rejects(String), silent, vanishes }

    let client: YagnaClient
    let behaviour: Behaviour
    private var offerId: String?
    private var loop: Task<Void, Never>?

    init(net: GolemLocal, behaviour: Behaviour) {
        self.client = YagnaClient(configuration: net.provider, logger: testLogger)
        self.behaviour = behaviour
    }

    func start(_ offer: DemandOfferBase) async throws {
        let offerId = try await client.json(.POST, "/market-api/v1/offers", body: offer, as: String.self)
        self.offerId = offerId
        loop = Task { await self.serve(offerId) }
    }

    func stop() async {
        loop?.cancel()
        await loop?.value
        if let offerId { try? await client.send(.DELETE, "/market-api/v1/offers/\(offerId)") }
    }

    private func serve(_ offerId: String) async {
        while !Task.isCancelled {
            let events = (try? await client.json(.GET, "/market-api/v1/offers/\(offerId)/events", query: [("timeout", "0.5"), ("maxEvents", "20")], wait: .seconds(2), as: [PlayedProvider.Event].self)) ?? []
            for event in events where event.eventType == "ProposalEvent" && event.proposal?.state == "Draft" {
                guard let proposal = event.proposal else { continue }
                switch behaviour {
                case .rejects(let reason):
                    try? await client.send(.POST, "/market-api/v1/offers/\(offerId)/proposals/\(proposal.proposalId)/reject", body: ["message": reason])
                case .silent:
                    continue
                case .vanishes:
                    try? await client.send(.DELETE, "/market-api/v1/offers/\(offerId)")
                    self.offerId = nil
                    return
                }
            }
        }
    }
}

/// The negotiator on a market of many provider nodes (`scripts/golem-local start --providers 12`):
/// good, too expensive, rejecting, silent and vanishing providers on one requestor. scripts/test
/// starts the network with 12 providers; with fewer the many-provider tests are skipped, and the
/// `market.providers` ones need 2.
@Suite(.serialized, .enabled(if: GolemLocal.providerCount >= 2, "needs scripts/golem-local start --providers 2 (or more)"))
struct GolemBackendMarketTests {
    static let many = GolemLocal.providerCount >= 10
    let net: GolemLocal
    let subnet = "market-\(UUID().uuidString.prefix(8).lowercased())"
    let directory: String

    init() throws {
        net = try GolemLocal.load()
        directory = NSTemporaryDirectory() + "golem-market-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    func backend(negotiation: Duration) throws -> GolemBackend {
        let configuration = GolemBackendConfiguration(
            yagna: net.requestor, paymentPlatform: net.values["GOLEM_LOCAL_PAYMENT_PLATFORM"], subnet: subnet,
            budget: 5,
            defaultPackage: PackageSpec(imageHash: String(repeating: "d", count: 56), imageUrl: "http://127.0.0.1:1/image.gvmi"),
            negotiationTimeout: negotiation, approvalTimeout: .seconds(5), pollInterval: .seconds(1), cleanupTimeout: .seconds(5),
            statePath: directory + "/state.sqlite"
        )
        return GolemBackend(configuration: configuration, store: try SQLiteRentalStore(path: configuration.statePath), logger: testLogger)
    }

    /// The job's limits: 1 GLM per CPU hour; `expensive` asks 36.
    let spec: JobSpec = {
        var spec = JobSpec(work: [.run(RunStep(.shell("echo hi")))])
        spec.market = MarketSpec(rentHours: 0.5, pricing: .linear(maxStartPrice: 0.1, maxCpuPerHourPrice: 1, maxEnvPerHourPrice: 1))
        return spec
    }()
    let cheap: [Double] = [0.0001, 0.00002, 0.0]
    let expensive: [Double] = [0.01, 0.00002, 0.0]

    /// Providers 1...n of the network, played: `good` of them accept (PlayedProvider), the rest
    /// are split over too expensive, rejecting, silent and vanishing. Returns a stop for all.
    func market(good: Int) async throws -> (good: [PlayedProvider], stop: @Sendable () async -> Void) {
        var played: [PlayedProvider] = []
        var bad: [MarketPlayer] = []
        let n = net.providerCount
        for k in 1...n {
            let node = net.asProvider(k)
            if k <= good {
                let provider = PlayedProvider(net: node, subnet: subnet)
                try await provider.start(coeffs: cheap)
                played.append(provider)
                continue
            }
            let shape = PlayedProvider(net: node, subnet: subnet)
            switch (k - good) % 4 {
            case 1:
                // too expensive: never countered, so it needs no answers
                let player = MarketPlayer(net: node, behaviour: .silent)
                try await player.start(await shape.offer(coeffs: expensive, name: "expensive-\(k)"))
                bad.append(player)
            case 2:
                let player = MarketPlayer(net: node, behaviour: .rejects("busy with another requestor (\(k))"))
                try await player.start(await shape.offer(coeffs: cheap, name: "rejects-\(k)"))
                bad.append(player)
            case 3:
                let player = MarketPlayer(net: node, behaviour: .silent)
                try await player.start(await shape.offer(coeffs: cheap, name: "silent-\(k)"))
                bad.append(player)
            default:
                let player = MarketPlayer(net: node, behaviour: .vanishes)
                try await player.start(await shape.offer(coeffs: cheap, name: "vanishes-\(k)"))
                bad.append(player)
            }
        }
        let stopPlayed = played, stopBad = bad
        return (played, {
            for provider in stopPlayed { await provider.stop() }
            for player in stopBad { await player.stop() }
        })
    }

    @Test(.enabled(if: many, "needs --providers 10")) func withOneGoodProviderAmongManyBadOnesTheFirstAgreementIsWithIt() async throws {
        let (good, stop) = try await market(good: 1)
        let backend = try backend(negotiation: .seconds(30))
        try await backend.start()
        let started = ContinuousClock.now
        let watch = Task {
            while await good[0].approved.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
            return ContinuousClock.now - started
        }
        let error = await #expect(throws: JobError.self) {
            _ = try await backend.acquire(jobId: "m1", spec: spec, attempt: 1, logger: testLogger)
        }
        // Agreement approved by the one good provider; deploy then fails (played: no exe-unit).
        #expect(error?.message.contains("did not take the commands") == true, "\(String(describing: error))")
        let toAgreement = try await watch.value
        print("market: \(net.providerCount) providers (1 good): first agreement approved after \(toAgreement)")
        await backend.shutdown(invoiceGrace: .zero)
        await stop()
        #expect(await good[0].approved.count == 1)
    }

    @Test(.enabled(if: many, "needs --providers 10")) func withNoGoodProviderNoProviderSaysWhyEachWasRefused() async throws {
        let (_, stop) = try await market(good: 0)
        let backend = try backend(negotiation: .seconds(6))
        try await backend.start()
        let error = await #expect(throws: JobError.self) {
            _ = try await backend.acquire(jobId: "m2", spec: spec, attempt: 1, logger: testLogger)
        }
        await backend.shutdown(invoiceGrace: .zero)
        await stop()
        print("market: no_provider message: \(error?.message ?? "-")")
        #expect(error?.code == .noProvider)
        let message = error?.message ?? ""
        #expect(message.contains("too expensive"))
        #expect(message.contains("rejected our counter") && message.contains("busy with another requestor"))
        #expect(message.contains("did not answer a counter"))
    }

    /// Providers 1 and 2, both good; 1 is the cheaper, so it would win without the option.
    func twoGood() async throws -> (cheaper: PlayedProvider, dearer: PlayedProvider) {
        let cheaper = PlayedProvider(net: net.asProvider(1), subnet: subnet)
        let dearer = PlayedProvider(net: net.asProvider(2), subnet: subnet)
        try await cheaper.start(coeffs: cheap)
        try await dearer.start(coeffs: [0.0002, 0.00002, 0.0])
        return (cheaper, dearer)
    }

    @Test func anExcludedProviderIsNeverCounteredNorRentedEvenWhenItIsTheCheapest() async throws {
        let (cheaper, dearer) = try await twoGood()
        let backend = try backend(negotiation: .seconds(30))
        try await backend.start()
        var excluding = spec
        excluding.market?.providers = ProviderChoice(exclude: [net.asProvider(1).providerId])
        let error = await #expect(throws: JobError.self) {
            _ = try await backend.acquire(jobId: "x1", spec: excluding, attempt: 1, logger: testLogger)
        }
        // Agreement approved by provider 2; deploy then fails (played: no exe-unit), so no job runs anywhere.
        #expect(error?.message.contains("did not take the commands") == true, "\(String(describing: error))")
        await backend.shutdown(invoiceGrace: .zero)
        await cheaper.stop()
        await dearer.stop()
        #expect(await dearer.approved.count == 1)
        #expect(await cheaper.drafts == 0, "the excluded provider got a counter")
        #expect(await cheaper.approved.isEmpty)
    }

    @Test func whenTheOptionLeavesNoProviderNoProviderSaysSo() async throws {
        let (cheaper, dearer) = try await twoGood()
        let backend = try backend(negotiation: .seconds(5))
        try await backend.start()
        var choosing = spec
        // provider 2 is left out by `only`, provider 1 by name ("played-provider") in `exclude`
        choosing.market?.providers = ProviderChoice(only: [net.asProvider(1).providerId], exclude: ["played-provider"])
        let error = await #expect(throws: JobError.self) {
            _ = try await backend.acquire(jobId: "x2", spec: choosing, attempt: 1, logger: testLogger)
        }
        await backend.shutdown(invoiceGrace: .zero)
        await cheaper.stop()
        await dearer.stop()
        print("market: no_provider message with market.providers: \(error?.message ?? "-")")
        #expect(error?.code == .noProvider)
        #expect(error?.message.contains("2 left out by market.providers") == true, "\(String(describing: error))")
        #expect(await cheaper.drafts == 0)
        #expect(await dearer.drafts == 0)
    }
}
