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

/// A debit note received from a provider (amounts are decimal strings).
public struct DebitNote: Sendable, Hashable, Decodable {
    public var debitNoteId: String
    public var agreementId: String
    public var activityId: String?
    public var totalAmountDue: String
    public var paymentDueDate: String?
    public var status: String
}

/// An invoice received from a provider (amounts are decimal strings).
public struct Invoice: Sendable, Hashable, Decodable {
    public var invoiceId: String
    public var agreementId: String
    public var amount: String
    public var status: String
}

/// One event of `/debitNoteEvents` or `/invoiceEvents`. Payment events are persistent: page them
/// with `afterTimestamp` = the last `eventDate`.
public struct PaymentEvent: Sendable, Hashable, Decodable {
    public var eventType: String
    public var eventDate: String
    public var debitNoteId: String?
    public var invoiceId: String?
}
