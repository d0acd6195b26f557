import JSONModel

/// A payment allocation: the requestor's reservation of funds on one payment platform.
public struct Allocation: Sendable, Hashable, Codable {
    public var allocationId: String
    public var address: String?
    public var paymentPlatform: String?
    public var totalAmount: String
    public var spentAmount: String?
    public var remainingAmount: String?
    public var timeout: String?
}

/// What an allocation adds to a demand: payment address properties and constraints.
public struct DemandDecorations: Sendable, Hashable, Decodable {
    public struct Property: Sendable, Hashable, Decodable {
        public var key: String
        public var value: JSONValue

        public init(key: String, value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    public var properties: [Property]
    public var constraints: [String]

    public init(properties: [Property], constraints: [String]) {
        self.properties = properties
        self.constraints = constraints
    }
}

/// A debit note received from a provider (amounts are decimal strings). Its amount is the running
/// total for its activity, not an increment.
public struct DebitNote: Sendable, Hashable, Decodable {
    public var debitNoteId: String
    public var agreementId: String
    public var activityId: String?
    public var totalAmountDue: String
    /// The activity's usage counters in the order of the offer's `golem.com.usage.vector`, as the
    /// provider reports them (ya-provider sends an array of numbers); absent or anything else is
    /// the provider's business, so it is kept as JSON.
    public var usageCounterVector: JSONValue?
    public var paymentDueDate: String?
    public var status: String
}

/// An invoice received from a provider (amounts are decimal strings).
public struct Invoice: Sendable, Hashable, Decodable {
    public var invoiceId: String
    public var agreementId: String
    public var activityIds: [String]?
    public var amount: String
    public var status: String
}

/// Why a debit note or invoice is rejected (the payment API's `RejectionReason`).
public enum RejectionReason: String, Sendable, Hashable, Codable {
    case unsolicitedService = "UNSOLICITED_SERVICE"
    case badService = "BAD_SERVICE"
    case incorrectAmount = "INCORRECT_AMOUNT"
}

/// The body of `POST /debitNotes|invoices/{id}/reject`.
public struct Rejection: Sendable, Hashable, Encodable {
    public var rejectionReason: RejectionReason
    /// What of the document the requestor accepts, a decimal string ("0" for none of it).
    public var totalAmountAccepted: String
    public var message: String?

    public init(_ reason: RejectionReason, totalAmountAccepted: String = "0", message: String?) {
        self.rejectionReason = reason
        self.totalAmountAccepted = totalAmountAccepted
        self.message = message
    }
}

/// One event of `/debitNoteEvents` or `/invoiceEvents`. Payment events are persistent: page them
/// with `afterTimestamp` = the last `eventDate`.
public struct PaymentEvent: Sendable, Hashable, Decodable {
    public var eventType: String
    public var eventDate: String
    public var debitNoteId: String?
    public var invoiceId: String?
}
