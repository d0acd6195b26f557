import Foundation

/// The requestor side of the payment API (`/payment-api/v1`).
extension YagnaClient {
    /// Creates an allocation of `totalAmount` (a decimal string) on `platform`, valid until `timeout`.
    public func createAllocation(totalAmount: String, platform: String, address: String?, timeout: Date) async throws -> Allocation {
        struct Body: Encodable {
            var totalAmount: String
            var paymentPlatform: String
            var address: String?
            var timeout: String
            var makeDeposit = false
        }
        return try await json(
            .POST, "/payment-api/v1/allocations",
            body: Body(totalAmount: totalAmount, paymentPlatform: platform, address: address, timeout: Self.timestamp(timeout)),
            as: Allocation.self
        )
    }

    public func allocation(_ allocationId: String) async throws -> Allocation {
        try await json(.GET, "/payment-api/v1/allocations/\(allocationId)", as: Allocation.self)
    }

    /// Amends an allocation's total and expiry.
    public func amendAllocation(_ allocationId: String, totalAmount: String, timeout: Date) async throws -> Allocation {
        struct Body: Encodable { var totalAmount: String; var timeout: String }
        return try await json(.PUT, "/payment-api/v1/allocations/\(allocationId)", body: Body(totalAmount: totalAmount, timeout: Self.timestamp(timeout)), as: Allocation.self)
    }

    /// Releases an allocation. One already released (404/410) counts as done.
    public func releaseAllocation(_ allocationId: String) async throws {
        do {
            try await send(.DELETE, "/payment-api/v1/allocations/\(allocationId)")
        } catch let error as YagnaError where error.code == .notFound || error.code == .conflict {
            return
        }
    }

    public func demandDecorations(allocationIds: [String]) async throws -> DemandDecorations {
        try await json(.GET, "/payment-api/v1/demandDecorations", query: [("allocationIds", allocationIds.joined(separator: ","))], as: DemandDecorations.self)
    }

    /// Debit-note events after `after` (RFC 3339), waiting up to `timeout`.
    public func debitNoteEvents(after: String?, timeout: Duration, maxEvents: Int = 100) async throws -> [PaymentEvent] {
        try await paymentEvents("/payment-api/v1/debitNoteEvents", after: after, timeout: timeout, maxEvents: maxEvents)
    }

    /// Invoice events after `after` (RFC 3339), waiting up to `timeout`.
    public func invoiceEvents(after: String?, timeout: Duration, maxEvents: Int = 100) async throws -> [PaymentEvent] {
        try await paymentEvents("/payment-api/v1/invoiceEvents", after: after, timeout: timeout, maxEvents: maxEvents)
    }

    private func paymentEvents(_ path: String, after: String?, timeout: Duration, maxEvents: Int) async throws -> [PaymentEvent] {
        var query = [("timeout", Self.seconds(timeout)), ("maxEvents", "\(maxEvents)")]
        if let after { query.append(("afterTimestamp", after)) }
        return try await json(.GET, path, query: query, wait: timeout, as: [PaymentEvent].self)
    }

    public func debitNote(_ debitNoteId: String) async throws -> DebitNote {
        try await json(.GET, "/payment-api/v1/debitNotes/\(debitNoteId)", as: DebitNote.self)
    }

    public func invoice(_ invoiceId: String) async throws -> Invoice {
        try await json(.GET, "/payment-api/v1/invoices/\(invoiceId)", as: Invoice.self)
    }

    public func acceptDebitNote(_ debitNoteId: String, amount: String, allocationId: String) async throws {
        try await send(.POST, "/payment-api/v1/debitNotes/\(debitNoteId)/accept", body: ["totalAmountAccepted": amount, "allocationId": allocationId])
    }

    public func acceptInvoice(_ invoiceId: String, amount: String, allocationId: String) async throws {
        try await send(.POST, "/payment-api/v1/invoices/\(invoiceId)/accept", body: ["totalAmountAccepted": amount, "allocationId": allocationId])
    }

    /// Rejects a received debit note. yagna 0.17.6 does not implement it: it answers 501
    /// ("not implemented", a `YagnaError` with code `.http(501)`); the note then stays unaccepted,
    /// and a provider ends the agreement once its accept timeout passes.
    public func rejectDebitNote(_ debitNoteId: String, _ rejection: Rejection) async throws {
        try await send(.POST, "/payment-api/v1/debitNotes/\(debitNoteId)/reject", body: rejection)
    }

    /// Rejects a received invoice; yagna tells the provider (`InvoiceRejectedEvent`). One already
    /// rejected counts as done (yagna answers 200).
    public func rejectInvoice(_ invoiceId: String, _ rejection: Rejection) async throws {
        try await send(.POST, "/payment-api/v1/invoices/\(invoiceId)/reject", body: rejection)
    }

    /// Reads a yagna time (RFC 3339 as chrono writes it, with or without fractions); `nil` when it
    /// is not one.
    public static func date(_ text: String) -> Date? {
        try? ExeScriptCommandResult.eventDateFormat.parse(text)
    }

    /// The node's identity (its address on the payment platforms).
    public func identity() async throws -> String {
        struct Me: Decodable { var identity: String }
        return try await json(.GET, "/me", as: Me.self).identity
    }
}
