import Foundation
import Resilience

/// The requestor side of the market API (`/market-api/v1`).
extension YagnaClient {
    /// Subscribes a demand; returns its subscription ID.
    public func subscribeDemand(_ demand: DemandOfferBase) async throws -> String {
        try await json(.POST, "/market-api/v1/demands", body: demand, as: String.self)
    }

    /// Unsubscribes a demand. An already unsubscribed one (404/410) counts as done.
    public func unsubscribeDemand(_ subscriptionId: String) async throws {
        do {
            try await send(.DELETE, "/market-api/v1/demands/\(subscriptionId)")
        } catch let error as YagnaError where error.code == .notFound || error.code == .conflict {
            return
        }
    }

    /// Long-polls a demand's events for up to `timeout`; an empty array when none came.
    public func demandEvents(_ subscriptionId: String, timeout: Duration, maxEvents: Int = 50) async throws -> [MarketEvent] {
        try await json(
            .GET, "/market-api/v1/demands/\(subscriptionId)/events",
            query: [("timeout", Self.seconds(timeout)), ("maxEvents", "\(maxEvents)")], wait: timeout,
            as: [MarketEvent].self
        )
    }

    /// Counters a provider's proposal with our demand; returns our new proposal's ID.
    public func counterProposal(_ subscriptionId: String, proposalId: String, demand: DemandOfferBase) async throws -> String {
        try await json(.POST, "/market-api/v1/demands/\(subscriptionId)/proposals/\(proposalId)", body: demand, as: String.self)
    }

    /// Rejects a provider's proposal, with a reason the provider sees.
    public func rejectProposal(_ subscriptionId: String, proposalId: String, reason: String) async throws {
        try await send(.POST, "/market-api/v1/demands/\(subscriptionId)/proposals/\(proposalId)/reject", body: ["message": reason])
    }

    /// Creates an agreement from a provider's `Draft` proposal; returns its ID (yagna answers 200).
    public func createAgreement(proposalId: String, validTo: Date) async throws -> String {
        struct Body: Encodable { var proposalId: String; var validTo: String }
        return try await json(.POST, "/market-api/v1/agreements", body: Body(proposalId: proposalId, validTo: Self.timestamp(validTo)), as: String.self)
    }

    /// Sends the agreement to the provider for approval.
    public func confirmAgreement(_ agreementId: String, appSessionId: String) async throws {
        try await send(.POST, "/market-api/v1/agreements/\(agreementId)/confirm", query: [("appSessionId", appSessionId)])
    }

    /// Waits up to `timeout` for the provider's approval: returns when approved; throws
    /// ``YagnaError`` (`.conflict` when rejected, cancelled or expired, `.timeout`/408 when no answer).
    public func waitForApproval(_ agreementId: String, timeout: Duration) async throws {
        try await send(.POST, "/market-api/v1/agreements/\(agreementId)/wait", query: [("timeout", Self.seconds(timeout))], wait: timeout)
    }

    public func agreement(_ agreementId: String) async throws -> Agreement {
        try await json(.GET, "/market-api/v1/agreements/\(agreementId)", as: Agreement.self)
    }

    /// Terminates an agreement. One that is already terminated or no longer approved (409/410) counts as done.
    public func terminateAgreement(_ agreementId: String, reason: String) async throws {
        do {
            try await send(.POST, "/market-api/v1/agreements/\(agreementId)/terminate", body: ["message": reason])
        } catch let error as YagnaError where error.code == .conflict {
            return
        }
    }

    /// Cancels an agreement the provider has not approved yet. 409/410 counts as done.
    public func cancelAgreement(_ agreementId: String, reason: String) async throws {
        do {
            try await send(.POST, "/market-api/v1/agreements/\(agreementId)/cancel", body: ["message": reason])
        } catch let error as YagnaError where error.code == .conflict {
            return
        }
    }

    /// yagna's float-seconds query parameter.
    static func seconds(_ duration: Duration) -> String {
        String(format: "%.3f", duration.seconds)
    }

    /// RFC 3339 with milliseconds, UTC.
    public static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}
