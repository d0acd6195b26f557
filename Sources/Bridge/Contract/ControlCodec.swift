import JSONModel

/// Reads control messages (contract v1, `golem.control`): `job.<jobId>.cancel` and
/// `job.<jobId>.status`.
public enum ControlCodec {
    public enum Action: String, Sendable, Hashable {
        case cancel, status
    }

    /// A control message's target and action, read from its routing key.
    public struct Request: Sendable, Hashable {
        public var jobId: String
        public var action: Action

        public init(jobId: String, action: Action) {
            self.jobId = jobId
            self.action = action
        }
    }

    /// The longest cancel reason kept, in characters; longer ones are cut.
    public static let maxReasonLength = 1024

    /// The routing key of a control message: `job.<jobId>.<action>`.
    public static func routingKey(jobId: String, action: Action) -> String {
        "job.\(jobId).\(action.rawValue)"
    }

    /// A cancel body: `{"reason": …}`, or empty without a reason.
    public static func cancelBody(reason: String?) -> [UInt8] {
        guard let reason else { return [] }
        return JSONValue.object([JSONMember("reason", .string(reason))]).encoded()
    }

    /// Parses `job.<jobId>.<action>`; `nil` when the key is not a control key or the job ID is invalid.
    public static func parse(routingKey: String) -> Request? {
        let parts = routingKey.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "job", let action = Action(rawValue: String(parts[2])) else { return nil }
        let jobId = String(parts[1])
        guard RequestCodec.isValidJobId(jobId) else { return nil }
        return Request(jobId: jobId, action: action)
    }

    /// The `reason` of a cancel body (`docs/schemas/cancel-request.schema.json`). Lenient on
    /// purpose: the body is optional, and a cancel is never refused for its body, so an empty,
    /// malformed or oversized body just means "no reason".
    public static func cancelReason(_ body: [UInt8]) -> String? {
        guard !body.isEmpty, body.count <= 64 * 1024, let json = try? JSONValue.parse(body, maxDepth: 8),
            let reason = json["reason"]?.string
        else { return nil }
        let scalars = reason.unicodeScalars
        guard scalars.count > maxReasonLength else { return reason }
        var cut = String.UnicodeScalarView()
        cut.append(contentsOf: scalars.prefix(maxReasonLength))
        return String(cut)
    }
}
