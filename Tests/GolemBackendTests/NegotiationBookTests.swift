import Foundation
import GolemJobs
import JSONModel
import Testing
import Yagna
@testable import GolemBackend

/// The negotiator's pure half: offers per provider, ranking, Drafts, refusals and the summary.
struct NegotiationBookTests {
    /// A proposal event as yagna sends it (Proposal has no public memberwise init).
    func event(_ proposal: [String: Any]) -> MarketEvent {
        let body: [String: Any] = ["eventType": "ProposalEvent", "eventDate": "2026-01-01T00:00:00Z", "proposal": proposal]
        return try! JSONDecoder().decode(MarketEvent.self, from: JSONSerialization.data(withJSONObject: body))
    }

    /// An offer priced `cpuPerHour` per CPU hour (2 threads), nothing else; `name` as `golem.node.id.name`.
    func initial(_ id: String, from provider: String, named name: String = "", cpuPerHour: Double) -> MarketEvent {
        event([
            "proposalId": id, "issuerId": provider, "state": "Initial",
            "properties": [
                "golem.com.pricing.model": "linear",
                "golem.com.usage.vector": ["golem.usage.cpu_sec", "golem.usage.duration_sec"],
                "golem.com.pricing.model.linear.coeffs": [cpuPerHour / 3600, 0.0, 0.0],
                "golem.inf.cpu.threads": 2,
                "golem.node.id.name": name,
            ] as [String: Any],
        ])
    }

    func draft(_ id: String, from provider: String, answering counter: String) -> MarketEvent {
        event(["proposalId": id, "issuerId": provider, "state": "Draft", "prevProposalId": counter, "properties": [String: Any]()])
    }

    let limits = Pricing.linear(maxStartPrice: 1, maxCpuPerHourPrice: 1, maxEnvPerHourPrice: 1)

    @Test func offersAreCounteredCheapestFirstAndTooExpensiveOnesRejectedWithTheReason() {
        var book = NegotiationBook(pricing: limits, hours: 1)
        let step = book.take([
            initial("a", from: "0xa", cpuPerHour: 0.5), initial("b", from: "0xb", cpuPerHour: 0.1),
            initial("c", from: "0xc", cpuPerHour: 5), initial("d", from: "0xd", cpuPerHour: 0.3),
        ], available: 100)
        #expect(step.counters.map(\.providerId) == ["0xb", "0xd", "0xa"])
        #expect(step.rejections.map(\.proposalId) == ["c"])
        #expect(step.rejections.first?.reason.contains("maxCpuPerHourPrice") == true)
        #expect(book.summary.contains("1 too expensive"))
    }

    static let a = "0x" + String(repeating: "a", count: 40), b = "0x" + String(repeating: "b", count: 40)
    static let c = "0x" + String(repeating: "c", count: 40), d = "0x" + String(repeating: "d", count: 40)

    @Test func excludedProvidersByIdOrNameAreNeverCounteredAndNoProviderSaysSo() {
        var book = NegotiationBook(pricing: nil, hours: 1, choice: ProviderChoice(exclude: [Self.a.uppercased().replacingOccurrences(of: "0X", with: "0x"), "noisy"]))
        let step = book.take([
            initial("pa", from: Self.a, named: "quiet", cpuPerHour: 0.1),
            initial("pb", from: Self.b, named: "noisy", cpuPerHour: 0.1),
            initial("pc", from: Self.c, named: "other", cpuPerHour: 0.5),
        ], available: 100)
        #expect(step.counters.map(\.providerId) == [Self.c])
        #expect(Set(step.rejections.map(\.proposalId)) == ["pa", "pb"])
        // A later offer of an excluded provider is dropped again.
        let again = book.take([initial("pa2", from: Self.a, named: "quiet", cpuPerHour: 0.01)], available: 100)
        #expect(again.counters.isEmpty)
        #expect(book.summary.contains("2 left out by market.providers"), "\(book.summary)")
        #expect(!book.onlyPriceRefusals)
    }

    @Test func onlyListsAllowNothingElseAndAnAddressEntryNeverMatchesAName() {
        // d names itself with a's address: an address entry matches ids only.
        var book = NegotiationBook(pricing: nil, hours: 1, choice: ProviderChoice(only: [Self.a, "trusted"]))
        let step = book.take([
            initial("pa", from: Self.a, named: "x", cpuPerHour: 0.3),
            initial("pb", from: Self.b, named: "trusted", cpuPerHour: 0.2),
            initial("pc", from: Self.c, named: "other", cpuPerHour: 0.1),
            initial("pd", from: Self.d, named: Self.a, cpuPerHour: 0.1),
        ], available: 100)
        #expect(step.counters.map(\.providerId) == [Self.b, Self.a])
    }

    @Test func aPreferredProviderWinsATieOnCostButNotACheaperOffer() {
        var book = NegotiationBook(pricing: nil, hours: 1, choice: ProviderChoice(prefer: ["fast", Self.d]))
        let step = book.take([
            initial("pa", from: Self.a, named: "slow", cpuPerHour: 0.2),
            initial("pb", from: Self.b, named: "fast", cpuPerHour: 0.2),
            initial("pc", from: Self.c, named: "cheap", cpuPerHour: 0.1),
            initial("pd", from: Self.d, named: "z", cpuPerHour: 0.3),
        ], available: 100)
        #expect(step.counters.map(\.providerId) == [Self.c, Self.b, Self.a, Self.d])
        for candidate in step.counters { book.countered(candidate, as: "counter-\(candidate.proposalId)") }
        // Drafts of one batch: the same order.
        let drafts = book.take([
            draft("da", from: Self.a, answering: "counter-pa"), draft("db", from: Self.b, answering: "counter-pb"),
        ], available: 100)
        #expect(drafts.drafts.map(\.providerId) == [Self.b, Self.a])
    }

    @Test func onlyTheNewestOfferOfAProviderCountsAndADraftToAReplacedOneIsIgnored() {
        var book = NegotiationBook(pricing: nil, hours: 1)
        let first = book.take([initial("old", from: "0xa", cpuPerHour: 0.5)], available: 100)
        book.countered(first.counters[0], as: "counter-old")
        let second = book.take([initial("new", from: "0xa", cpuPerHour: 0.2), initial("newer", from: "0xa", cpuPerHour: 0.3)], available: 100)
        #expect(second.counters.map(\.proposalId) == ["newer"])
        #expect(second.rejections.map(\.proposalId) == ["new"])
        let third = book.take([draft("d-old", from: "0xa", answering: "counter-old")], available: 100)
        #expect(third.drafts.isEmpty, "a Draft answering the replaced offer")
        book.countered(second.counters[0], as: "counter-newer")
        let fourth = book.take([draft("d-newer", from: "0xa", answering: "counter-newer")], available: 100)
        #expect(fourth.drafts.map(\.proposalId) == ["d-newer"])
        #expect(book.offers == 3)
    }

    @Test func draftsOfOneBatchAreSignedCheapestFirstAndAStrangersDraftIsIgnored() {
        var book = NegotiationBook(pricing: nil, hours: 1)
        let step = book.take([initial("a", from: "0xa", cpuPerHour: 0.5), initial("b", from: "0xb", cpuPerHour: 0.1)], available: 100)
        for candidate in step.counters { book.countered(candidate, as: "counter-\(candidate.proposalId)") }
        let drafts = book.take([
            draft("da", from: "0xa", answering: "counter-a"), draft("db", from: "0xb", answering: "counter-b"),
            draft("dx", from: "0xx", answering: "counter-a"),
        ], available: 100)
        #expect(drafts.drafts.map(\.proposalId) == ["db", "da"])
    }

    @Test func offersOverTheBudgetLeftAreNotCounteredAndAloneMakeABudgetRefusal() {
        var book = NegotiationBook(pricing: nil, hours: 1)
        let step = book.take([initial("a", from: "0xa", cpuPerHour: 0.5)], available: Decimal(string: "0.5")!)
        #expect(step.counters.isEmpty)
        #expect(step.rejections.isEmpty)
        #expect(book.onlyPriceRefusals)
        #expect(book.cheapestOverBudgetCost == 1)
    }

    @Test func theSummaryCountsEveryCauseWithTheProvidersReasons() {
        var book = NegotiationBook(pricing: limits, hours: 1)
        let step = book.take([
            initial("a", from: "0xa", cpuPerHour: 0.1), initial("b", from: "0xb", cpuPerHour: 0.1),
            initial("c", from: "0xc", cpuPerHour: 0.1), initial("d", from: "0xd", cpuPerHour: 0.1),
            initial("e", from: "0xe", cpuPerHour: 9),
        ], available: 100)
        for candidate in step.counters { book.countered(candidate, as: "counter-\(candidate.proposalId)") }
        _ = book.take([.proposalRejected(proposalId: "counter-a", reason: "no more capacity")], available: 100)
        book.refused("0xb", .vanished)
        let drafts = book.take([draft("dd", from: "0xd", answering: "counter-d")], available: 100)
        book.refused(drafts.drafts[0].providerId, .notApproved)
        #expect(!book.onlyPriceRefusals)
        #expect(book.summary == "5 offers from 5 providers: 1 too expensive, 1 rejected our counter (0xa: no more capacity), 1 did not answer a counter, 1 vanished, 1 did not approve the agreement")
    }

    @Test func aRejectionOfACounterAlreadyAnsweredIsIgnored() {
        var book = NegotiationBook(pricing: nil, hours: 1)
        let step = book.take([initial("a", from: "0xa", cpuPerHour: 0.1)], available: 100)
        book.countered(step.counters[0], as: "counter-a")
        let drafts = book.take([draft("da", from: "0xa", answering: "counter-a"), .proposalRejected(proposalId: "counter-a", reason: "late")], available: 100)
        #expect(drafts.drafts.count == 1)
        #expect(!book.summary.contains("rejected"))
    }

    @Test func theDeadlineEndsAWaitThatWouldGoOn() async {
        let deadline = ContinuousClock.now + .milliseconds(50)
        let result = await GolemBackend.beforeDeadline(deadline, on: SystemGolemClock()) {
            try await Task.sleep(for: .seconds(600))
            return "answered"
        }
        guard case .failure(let error) = result else { Issue.record("the wait outlived its deadline"); return }
        #expect(error.code == .timeout)
    }
}

extension NegotiationBookTests {
    @Test func aCounterToAnUnsubscribedOfferReadsAsTheProviderGone() {
        #expect(YagnaError(.http(400), call: "POST x", message: "Subscription [abc] was already unsubscribed.").offerIsGone)
        #expect(YagnaError(.conflict, call: "POST x", message: "").offerIsGone)
        #expect(!YagnaError(.http(400), call: "POST x", message: "bad demand").offerIsGone)
        #expect(!YagnaError(.timeout, call: "POST x", message: "").offerIsGone)
    }
}
