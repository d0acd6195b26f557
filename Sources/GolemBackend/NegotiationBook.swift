import Foundation
import GolemJobs
import Yagna

/// What one negotiation has learned about the market, and what to do next: the pure half of
/// `GolemBackend.rent` (no I/O, no clock), fed with the demand's events and the outcome of our calls.
///
/// Rules (after golem-js `src/market` and yagna's market API): one offer per provider, the newest
/// (a later `Initial` from the same node replaces the earlier one, whose Draft is then ignored);
/// offers from providers the job's `market.providers` does not allow, or over the job's price limits
/// or the budget, are refused at once; the others are countered cheapest first, by their most cost
/// over the rental (`OfferTerms.maxCost`), a preferred provider first among equal costs; Drafts are
/// signed in the order they arrive, in the same order within one batch of events. Every refusal is counted
/// by cause so a failed negotiation can say why (`summary`).
struct NegotiationBook {
    /// An offer we counter, or a Draft answering one of our counters.
    struct Candidate: Sendable, Equatable {
        var proposalId: String
        var providerId: String
        var terms: OfferTerms
        /// `terms.maxCost(hours:)`: the ranking key.
        var cost: Double
        /// Named in `market.providers.prefer`: wins a tie on `cost`.
        var preferred = false
    }

    /// What one batch of events asks for.
    struct Step: Sendable, Equatable {
        /// Offers to counter, cheapest first.
        var counters: [Candidate] = []
        /// Offers to reject, with the reason the provider will read.
        var rejections: [(proposalId: String, reason: String)] = []
        /// Drafts to sign, in arrival order by batch, cheapest first within the batch.
        var drafts: [Candidate] = []

        static func == (a: Step, b: Step) -> Bool {
            a.counters == b.counters && a.drafts == b.drafts
                && a.rejections.map(\.proposalId) == b.rejections.map(\.proposalId)
                && a.rejections.map(\.reason) == b.rejections.map(\.reason)
        }
    }

    /// Why the last provider we heard of is out of the running.
    enum Refusal: Sendable, Equatable {
        case unreadable(String)
        /// Not allowed by the job's `market.providers` (excluded, or not in `only`).
        case notChosen
        case tooExpensive(String)
        case overBudget(cost: Decimal)
        case rejectedCounter(String)
        case vanished
        case notApproved
    }

    let pricing: Pricing?
    let hours: Double
    let choice: ProviderChoice?

    /// `Initial` proposals seen (every one, replaced ones included).
    private(set) var offers = 0
    /// Provider → its newest `Initial` proposal id.
    private var newest: [String: String] = [:]
    /// Our counter-proposal id → what it answers.
    private var countered: [String: Candidate] = [:]
    /// Providers countered that have not answered (no Draft, no rejection) yet.
    private var awaiting: Set<String> = []
    /// Provider → why it is out; a later offer from the same provider clears it.
    private(set) var refusals: [String: Refusal] = [:]

    init(pricing: Pricing?, hours: Double, choice: ProviderChoice? = nil) {
        self.pricing = pricing
        self.hours = hours
        self.choice = choice
    }

    /// Reads one batch of events. `available` is the budget left to reserve (GLM).
    mutating func take(_ events: [MarketEvent], available: Decimal) -> Step {
        var step = Step()
        var initial: [String: Proposal] = [:]  // newest per provider within this batch
        var drafts: [Candidate] = []
        for event in events {
            switch event {
            case .proposal(let proposal) where proposal.state == "Initial":
                offers += 1
                if let older = initial[proposal.issuerId] {
                    step.rejections.append((older.proposalId, "replaced by a newer offer of the same provider"))
                }
                initial[proposal.issuerId] = proposal
            case .proposal(let proposal) where proposal.state == "Draft":
                guard let previous = proposal.prevProposalId, let ours = countered[previous],
                    ours.providerId == proposal.issuerId, newest[proposal.issuerId] == ours.proposalId,
                    awaiting.contains(proposal.issuerId)
                else { continue }
                awaiting.remove(proposal.issuerId)
                drafts.append(Candidate(proposalId: proposal.proposalId, providerId: proposal.issuerId, terms: ours.terms, cost: ours.cost, preferred: ours.preferred))
            case .proposalRejected(let proposalId, let reason):
                // yagna names our counter; a provider's own Initial is matched too, to be safe
                let ours = countered[proposalId] ?? countered.values.first { $0.proposalId == proposalId }
                guard let ours, newest[ours.providerId] == ours.proposalId, awaiting.contains(ours.providerId) else { continue }
                awaiting.remove(ours.providerId)
                refusals[ours.providerId] = .rejectedCounter(reason ?? "no reason given")
            default:
                continue
            }
        }
        for proposal in initial.values {
            newest[proposal.issuerId] = proposal.proposalId
            awaiting.remove(proposal.issuerId)
            refusals[proposal.issuerId] = nil
            let terms: OfferTerms
            do { terms = try OfferTerms(properties: proposal.properties) } catch {
                refusals[proposal.issuerId] = .unreadable("\(error)")
                step.rejections.append((proposal.proposalId, "\(error)"))
                continue
            }
            if let choice, !choice.allows(id: proposal.issuerId, name: terms.providerName) {
                refusals[proposal.issuerId] = .notChosen
                step.rejections.append((proposal.proposalId, "not among the providers this job may rent"))
                continue
            }
            if let violation = terms.violation(of: pricing, hours: hours) {
                refusals[proposal.issuerId] = .tooExpensive(violation)
                step.rejections.append((proposal.proposalId, "price over the job's limit: \(violation)"))
                continue
            }
            let cost = BudgetLedger.amount(terms.maxCost(hours: hours))
            if cost > available {
                refusals[proposal.issuerId] = .overBudget(cost: cost)
                continue
            }
            let preferred = choice?.prefers(id: proposal.issuerId, name: terms.providerName) ?? false
            step.counters.append(Candidate(proposalId: proposal.proposalId, providerId: proposal.issuerId, terms: terms, cost: terms.maxCost(hours: hours), preferred: preferred))
        }
        step.counters.sort(by: Self.cheaperFirst)
        step.drafts = drafts.sorted(by: Self.cheaperFirst)
        return step
    }

    /// Equal costs: a preferred provider first, then by provider id, so a ranking never depends on
    /// dictionary order.
    static func cheaperFirst(_ a: Candidate, _ b: Candidate) -> Bool {
        (a.cost, a.preferred ? 0 : 1, a.providerId) < (b.cost, b.preferred ? 0 : 1, b.providerId)
    }

    /// Our counter to `candidate` was posted as `counterId`; its Draft (or rejection) is awaited.
    mutating func countered(_ candidate: Candidate, as counterId: String) {
        guard newest[candidate.providerId] == candidate.proposalId else { return }
        countered[counterId] = candidate
        awaiting.insert(candidate.providerId)
    }

    /// The provider is gone (its offer unsubscribed, or our call answered 404/410), or would not
    /// approve the agreement.
    mutating func refused(_ providerId: String, _ refusal: Refusal) {
        awaiting.remove(providerId)
        refusals[providerId] = refusal
    }

    /// A sentence for `no_provider`: how many providers were seen and why each is out.
    var summary: String {
        var tooExpensive = 0, overBudget = 0, vanished = 0, notApproved = 0, notChosen = 0
        var rejected: [String] = [], unreadable: [String] = []
        for (provider, refusal) in refusals.sorted(by: { $0.key < $1.key }) {
            switch refusal {
            case .tooExpensive: tooExpensive += 1
            case .notChosen: notChosen += 1
            case .overBudget: overBudget += 1
            case .vanished: vanished += 1
            case .notApproved: notApproved += 1
            case .rejectedCounter(let reason): rejected.append("\(provider): \(reason)")
            case .unreadable(let reason): unreadable.append("\(provider): \(reason)")
            }
        }
        var parts: [String] = []
        if notChosen > 0 { parts.append("\(notChosen) left out by market.providers") }
        if tooExpensive > 0 { parts.append("\(tooExpensive) too expensive") }
        if overBudget > 0 { parts.append("\(overBudget) over the budget left") }
        if !rejected.isEmpty { parts.append("\(rejected.count) rejected our counter (\(Self.listed(rejected)))") }
        if !awaiting.isEmpty { parts.append("\(awaiting.count) did not answer a counter") }
        if vanished > 0 { parts.append("\(vanished) vanished") }
        if notApproved > 0 { parts.append("\(notApproved) did not approve the agreement") }
        if !unreadable.isEmpty { parts.append("\(unreadable.count) unreadable (\(Self.listed(unreadable)))") }
        let providers = newest.count == 1 ? "1 provider" : "\(newest.count) providers"
        return parts.isEmpty ? "\(offers) offers from \(providers)" : "\(offers) offers from \(providers): \(parts.joined(separator: ", "))"
    }

    private static func listed(_ items: [String]) -> String {
        let shown = items.prefix(3).joined(separator: "; ")
        return items.count > 3 ? shown + "; …" : shown
    }

    /// Every provider seen was refused for its price or the budget, none countered.
    var onlyPriceRefusals: Bool {
        !refusals.isEmpty && countered.isEmpty && awaiting.isEmpty
            && refusals.values.allSatisfy { if case .tooExpensive = $0 { true } else if case .overBudget = $0 { true } else { false } }
            && refusals.count == newest.count
    }

    /// The cheapest offer refused for the budget, for a `budget_exceeded` message.
    var cheapestOverBudgetCost: Decimal? {
        refusals.values.compactMap { if case .overBudget(let cost) = $0 { cost } else { nil } }.min()
    }

    /// The first price violation, for a `budget_exceeded` message.
    var priceViolations: [String] {
        refusals.sorted(by: { $0.key < $1.key }).compactMap { if case .tooExpensive(let why) = $0.value { "\($0.key): \(why)" } else { nil } }
    }
}
