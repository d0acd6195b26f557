import GolemJobs
import JSONModel

/// An event as a consumer reads it: the CloudEvent attributes, the common `data` fields, and the
/// whole `data` JSON for everything else.
public struct DecodedEvent: Sendable, Hashable {
    public var id: String
    public var source: String
    public var type: String
    public var subject: String
    /// RFC 3339, as sent.
    public var time: String
    public var sequence: Int
    public var jobId: String
    public var event: JobEvent.Kind
    /// `new`, `pending`, `done` or `rejected`.
    public var state: String
    public var attempt: Int
    public var labels: [String: String]
    public var errorCode: String?
    public var errorMessage: String?
    public var errorStep: Int?
    /// `data.result.output`.
    public var output: String?
    /// The whole `data` member.
    public var data: JSONValue
}

/// Why bytes are not a contract event.
public struct EventDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension EventCodec {
    /// Decodes an event body. Unknown members are ignored, so newer bridges stay readable.
    public static func decode(_ body: [UInt8]) throws(EventDecodingError) -> DecodedEvent {
        guard let json = try? JSONValue.parse(body, maxDepth: 256), case .object = json else {
            throw EventDecodingError("the event is not a JSON object")
        }
        func string(_ v: JSONValue?, _ name: String) throws(EventDecodingError) -> String {
            guard let s = v?.string else { throw EventDecodingError("\(name) must be a string") }
            return s
        }
        guard json["specversion"]?.string == "1.0" else { throw EventDecodingError("specversion must be \"1.0\"") }
        guard let data = json["data"], case .object = data else { throw EventDecodingError("data must be an object") }
        let sequenceText = try string(json["sequence"], "sequence")
        guard let sequence = Int(sequenceText) else { throw EventDecodingError("sequence must be a decimal string") }
        let eventName = try string(data["event"], "data.event")
        guard let kind = JobEvent.Kind(rawValue: eventName) else {
            throw EventDecodingError("data.event \"\(eventName)\" is not a known event")
        }
        guard let attempt = data["attempt"]?.int else { throw EventDecodingError("data.attempt must be an integer") }
        var labels: [String: String] = [:]
        if case .object(let members)? = data["labels"] {
            for m in members { if let s = m.value.string { labels[m.key] = s } }
        }
        return DecodedEvent(
            id: try string(json["id"], "id"),
            source: try string(json["source"], "source"),
            type: try string(json["type"], "type"),
            subject: try string(json["subject"], "subject"),
            time: try string(json["time"], "time"),
            sequence: sequence,
            jobId: try string(data["jobId"], "data.jobId"),
            event: kind,
            state: try string(data["state"], "data.state"),
            attempt: attempt,
            labels: labels,
            errorCode: data["error"]?["code"]?.string,
            errorMessage: data["error"]?["message"]?.string,
            errorStep: data["error"]?["step"]?.int,
            output: data["result"]?["output"]?.string,
            data: data
        )
    }
}
