import JSONModel

/// A demand or offer as the market API takes it: flat properties and an LDAP-like constraint filter.
public struct DemandOfferBase: Sendable, Hashable, Codable {
    public var properties: [String: JSONValue]
    public var constraints: String

    public init(properties: [String: JSONValue], constraints: String) {
        self.properties = properties
        self.constraints = constraints
    }
}

/// A proposal seen by a demand's subscription (`Initial` from the market, `Draft` after a counter).
public struct Proposal: Sendable, Hashable, Decodable {
    public var proposalId: String
    public var issuerId: String
    public var state: String
    public var prevProposalId: String?
    public var properties: [String: JSONValue]
    public var constraints: String?
}

/// One event of a demand subscription. Unknown event types decode as `.other` and are skipped.
public enum MarketEvent: Sendable, Hashable, Decodable {
    case proposal(Proposal)
    case proposalRejected(proposalId: String, reason: String?)
    case other(type: String)

    private enum CodingKeys: String, CodingKey { case eventType, eventtype, proposal, proposalId, reason }
    private struct Reason: Decodable { var message: String? }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        // Older yagna sent `eventtype` (yagna PR #3136).
        let type = try container.decodeIfPresent(String.self, forKey: .eventType)
            ?? container.decodeIfPresent(String.self, forKey: .eventtype) ?? ""
        switch type {
        case "ProposalEvent":
            self = .proposal(try container.decode(Proposal.self, forKey: .proposal))
        case "ProposalRejectedEvent":
            let reason = try? container.decodeIfPresent(Reason.self, forKey: .reason)
            self = .proposalRejected(proposalId: try container.decode(String.self, forKey: .proposalId), reason: reason?.message)
        default:
            self = .other(type: type)
        }
    }
}

/// An agreement as `GET /agreements/{id}` returns it (the fields the requestor uses).
public struct Agreement: Sendable, Hashable, Decodable {
    public struct Offer: Sendable, Hashable, Decodable {
        public var providerId: String
        public var properties: [String: JSONValue]
    }

    public var agreementId: String
    public var state: String
    public var validTo: String?
    /// When the provider approved it (RFC 3339, the provider node's clock); absent until then.
    public var approvedDate: String?
    public var offer: Offer
}
