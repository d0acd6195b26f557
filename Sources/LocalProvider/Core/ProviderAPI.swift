import Foundation
import JSONModel
import NIOHTTP1
import Resilience
import Yagna

/// The provider side of yagna's REST API: market (offers, counters, approval), activity (events,
/// state), GSB services, payment documents. Every call is bounded by `YagnaConfiguration`; long
/// polls add their own wait.
public struct ProviderAPI: Sendable {
    public let client: YagnaClient

    public init(client: YagnaClient) {
        self.client = client
    }

    private struct Identity: Decodable { var identity: String }
    private struct Message: Encodable { var message: String }

    public func identity() async throws -> String {
        try await client.json(.GET, "/me", as: Identity.self).identity
    }

    // MARK: Market

    public func subscribe(_ offer: Offer) async throws -> String {
        try await post(offer, to: "/market-api/v1/offers")
    }

    public func unsubscribe(_ offerId: String) async throws {
        try await client.send(.DELETE, "/market-api/v1/offers/\(offerId)")
    }

    public func offerEvents(_ offerId: String, timeout: Duration) async throws -> [JSONValue] {
        try await client.json(
            .GET, "/market-api/v1/offers/\(offerId)/events",
            query: [("timeout", Self.seconds(timeout)), ("maxEvents", "20")], wait: timeout, as: [JSONValue].self
        )
    }

    public func counter(offerId: String, proposalId: String, with offer: Offer) async throws -> String {
        try await post(offer, to: "/market-api/v1/offers/\(offerId)/proposals/\(proposalId)")
    }

    /// POSTs the offer's own JSON text (its floats stay floats) and reads the id yagna answers.
    private func post(_ offer: Offer, to path: String) async throws -> String {
        let answer = try await client.call(.POST, path, body: offer.json.encoded())
        do {
            return try YagnaClient.decoder.decode(String.self, from: Data(answer.body))
        } catch {
            throw YagnaError(.badResponse, call: "POST \(path)", message: "cannot read the proposal id: \(error)")
        }
    }

    /// Rejects a demand proposal with ya-provider's reason: the message and whether it is final
    /// (`golem.proposal.rejection.is-final`, a member of yagna's `Reason` beside `message`).
    public func reject(offerId: String, proposalId: String, reason: String, isFinal: Bool) async throws {
        try await client.send(.POST, "/market-api/v1/offers/\(offerId)/proposals/\(proposalId)/reject", body: Rejection(message: reason, isFinal: isFinal))
    }

    private struct Rejection: Encodable {
        var message: String
        var isFinal: Bool
        enum CodingKeys: String, CodingKey {
            case message
            case isFinal = "golem.proposal.rejection.is-final"
        }
    }

    public func approve(agreementId: String, appSessionId: String, timeout: Duration) async throws {
        try await client.send(
            .POST, "/market-api/v1/agreements/\(agreementId)/approve",
            query: [("appSessionId", appSessionId), ("timeout", Self.seconds(timeout))], wait: timeout
        )
    }

    /// Refuses a pending agreement (ya-provider's RejectAgreement), with the reason the requestor reads.
    public func rejectAgreement(_ agreementId: String, reason: String) async throws {
        try await client.send(.POST, "/market-api/v1/agreements/\(agreementId)/reject", body: Message(message: reason))
    }

    public func terminate(agreementId: String, reason: String) async throws {
        try await client.send(.POST, "/market-api/v1/agreements/\(agreementId)/terminate", body: Message(message: reason))
    }

    public func agreementEvents(after: String, appSessionId: String, timeout: Duration) async throws -> [JSONValue] {
        try await client.json(
            .GET, "/market-api/v1/agreementEvents",
            query: [("afterTimestamp", after), ("appSessionId", appSessionId), ("timeout", Self.seconds(timeout)), ("maxEvents", "50")],
            wait: timeout, as: [JSONValue].self
        )
    }

    // MARK: Activity

    /// Activity events after `after`; an empty list when the long poll ends without any (yagna
    /// answers that with 408).
    public func activityEvents(after: String, appSessionId: String, timeout: Duration) async throws -> [JSONValue] {
        do {
            return try await client.json(
            .GET, "/activity-api/v1/events",
                query: [("appSessionId", appSessionId), ("afterTimestamp", after), ("timeout", Self.seconds(timeout)), ("maxEvents", "20")],
                wait: timeout, as: [JSONValue].self
            )
        } catch let error as YagnaError where error.code == .http(408) {
            return []
        }
    }

    private struct StateBody: Encodable {
        var state: [String?]
        var reason: String?
        var errorMessage: String?
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(state, forKey: .state)
            try container.encode(reason, forKey: .reason)
            try container.encode(errorMessage, forKey: .errorMessage)
        }
        enum CodingKeys: String, CodingKey { case state, reason, errorMessage }
    }

    public func setState(activityId: String, _ state: ActivityState, reason: String? = nil) async throws {
        try await client.send(.PUT, "/activity-api/v1/activity/\(activityId)/state", body: StateBody(state: [state.rawValue, nil], reason: reason))
    }

    // MARK: Payment

    private struct NewDebitNote: Encodable {
        var activityId: String
        var totalAmountDue: String
        var usageCounterVector: [Double]
    }
    private struct DebitNoteId: Decodable { var debitNoteId: String }

    /// Issues and sends a debit note; returns its id.
    public func debitNote(activityId: String, amount: Decimal, usage: Usage) async throws -> String {
        let id = try await client.json(
            .POST, "/payment-api/v1/debitNotes",
            body: NewDebitNote(activityId: activityId, totalAmountDue: LinearPricing.text(amount), usageCounterVector: usage.vector),
            as: DebitNoteId.self
        ).debitNoteId
        try await client.send(.POST, "/payment-api/v1/debitNotes/\(id)/send")
        return id
    }

    public func debitNoteEvents(after: String, timeout: Duration) async throws -> [JSONValue] {
        try await client.json(
            .GET, "/payment-api/v1/debitNoteEvents",
            query: [("afterTimestamp", after), ("timeout", Self.seconds(timeout)), ("maxEvents", "100")],
            wait: timeout, as: [JSONValue].self
        )
    }

    private struct NewInvoice: Encodable {
        var agreementId: String
        var activityIds: [String]
        var amount: String
        var paymentDueDate: String
    }
    private struct InvoiceId: Decodable { var invoiceId: String }

    /// Issues and sends an invoice; returns its id.
    public func invoice(agreementId: String, activityIds: [String], amount: Decimal, due: Date) async throws -> String {
        let id = try await client.json(
            .POST, "/payment-api/v1/invoices",
            body: NewInvoice(agreementId: agreementId, activityIds: activityIds, amount: LinearPricing.text(amount), paymentDueDate: Self.timestamp(due)),
            as: InvoiceId.self
        ).invoiceId
        try await client.send(.POST, "/payment-api/v1/invoices/\(id)/send")
        return id
    }

    // MARK: Helpers

    static func seconds(_ duration: Duration) -> String {
        String(duration.seconds)
    }

    public static func timestamp(_ date: Date) -> String {
        Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(date)
    }
}
