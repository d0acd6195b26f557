import Foundation
import GolemLocalTestSupport
import JSONModel
import Logging
import Yagna

/// The provider side played over the provider node's real REST API (as tests/golem_local does):
/// an offer, counters to Drafts, approvals, activity state answers. There is no exe-unit, so an
/// ExeScript sent to its activities fails in yagna with "endpoint address not found".
actor PlayedProvider {
    let client: YagnaClient
    let id: String
    let subnet: String
    /// The local network's payment platform (scripts/golem-local's env file).
    let platform: String
    private(set) var offerId: String?
    private(set) var approved: [String] = []
    /// Drafts received: each answers a counter of the requestor.
    private(set) var drafts = 0
    private(set) var activities: [String] = []
    private var loop: Task<Void, Never>?
    let appSessionId = "played-\(UUID().uuidString.prefix(8))"

    init(net: GolemLocal, subnet: String) {
        self.client = YagnaClient(configuration: net.provider, logger: testLogger)
        self.id = net.providerId
        self.subnet = subnet
        self.platform = net.values["GOLEM_LOCAL_PAYMENT_PLATFORM"] ?? "erc20-hoodi-tglm"
    }

    struct Event: Decodable {
        var eventType: String?
        var proposal: Proposal?
        var agreement: AgreementRef?
    }

    struct AgreementRef: Decodable { var agreementId: String }

    struct ActivityEvent: Decodable {
        var activityId: String
        var eventType: [String: JSONValue]
        var eventDate: String
    }

    func offer(coeffs: [Double], name: String = "played-provider") -> DemandOfferBase {
        DemandOfferBase(
            properties: [
                "golem.node.id.name": .string(name),
                "golem.node.debug.subnet": .string(subnet),
                "golem.inf.cpu.cores": .int(2), "golem.inf.cpu.threads": .int(2),
                "golem.inf.mem.gib": .double(8), "golem.inf.storage.gib": .double(40),
                "golem.runtime.name": .string("vm"),
                "golem.com.pricing.model": .string("linear"),
                "golem.com.usage.vector": .array([.string("golem.usage.cpu_sec"), .string("golem.usage.duration_sec")]),
                "golem.com.pricing.model.linear.coeffs": .array(coeffs.map { .double($0) }),
                "golem.com.scheme": .string("payu"),
                "golem.com.payment.debit-notes.accept-timeout?": .int(240),
                "golem.com.payment.protocol.version": .string("3"),
                "golem.com.payment.platform.\(platform).address": .string(id),
                "golem.srv.caps.multi-activity": .bool(true),
            ],
            constraints: "(&(golem.srv.comp.expiration>0)(golem.node.debug.subnet=\(subnet)))"
        )
    }

    /// Subscribes the offer and starts answering the market and activity APIs.
    func start(coeffs: [Double]) async throws {
        let offer = offer(coeffs: coeffs)
        let offerId = try await client.json(.POST, "/market-api/v1/offers", body: offer, as: String.self)
        self.offerId = offerId
        let started = YagnaClient.timestamp(Date().addingTimeInterval(-1))
        loop = Task { await self.serve(offerId: offerId, offer: offer, since: started) }
    }

    func stop() async {
        loop?.cancel()
        await loop?.value
        if let offerId { try? await client.send(.DELETE, "/market-api/v1/offers/\(offerId)") }
    }

    private func serve(offerId: String, offer: DemandOfferBase, since: String) async {
        var after = since
        while !Task.isCancelled {
            if let events = try? await client.json(.GET, "/market-api/v1/offers/\(offerId)/events", query: [("timeout", "0.3"), ("maxEvents", "20")], wait: .seconds(1), as: [Event].self) {
                for event in events {
                    if event.eventType == "ProposalEvent", let proposal = event.proposal, proposal.state == "Draft" {
                        drafts += 1
                        _ = try? await client.json(.POST, "/market-api/v1/offers/\(offerId)/proposals/\(proposal.proposalId)", body: offer, as: String.self)
                    } else if event.eventType == "AgreementEvent", let agreement = event.agreement {
                        let id = agreement.agreementId
                        Task { try? await self.client.send(.POST, "/market-api/v1/agreements/\(id)/approve", query: [("appSessionId", self.appSessionId), ("timeout", "10")], wait: .seconds(10)) }
                        approved.append(id)
                    }
                }
            }
            if let events = try? await client.json(.GET, "/activity-api/v1/events", query: [("appSessionId", appSessionId), ("afterTimestamp", after), ("timeout", "0.3"), ("maxEvents", "20")], wait: .seconds(1), as: [ActivityEvent].self) {
                for event in events {
                    after = event.eventDate
                    let next: String
                    if event.eventType["CreateActivity"] != nil {
                        activities.append(event.activityId)
                        next = "Initialized"
                    } else if event.eventType["DestroyActivity"] != nil {
                        next = "Terminated"
                    } else {
                        continue
                    }
                    struct Body: Encodable { var state: [String?]; var reason: String?; var errorMessage: String? }
                    try? await client.send(.PUT, "/activity-api/v1/activity/\(event.activityId)/state", body: Body(state: [next, nil]))
                }
            }
        }
    }

    /// Issues and sends an invoice for an agreement, as a provider does after it ends; returns its ID.
    @discardableResult
    func invoice(agreementId: String, activityIds: [String], amount: String) async throws -> String {
        struct Body: Encodable { var agreementId: String; var activityIds: [String]; var amount: String; var paymentDueDate: String }
        struct Created: Decodable { var invoiceId: String }
        let created = try await client.json(
            .POST, "/payment-api/v1/invoices",
            body: Body(agreementId: agreementId, activityIds: activityIds, amount: amount, paymentDueDate: YagnaClient.timestamp(Date().addingTimeInterval(3600))),
            as: Created.self
        )
        try await client.send(.POST, "/payment-api/v1/invoices/\(created.invoiceId)/send")
        return created.invoiceId
    }
}
