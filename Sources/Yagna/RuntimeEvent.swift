import Foundation
import JSONModel

/// What happened to one command of a running batch, as yagna streams it to a requestor that asks for
/// a batch's results as `text/event-stream` (``YagnaClient/batchEvents(_:batchId:)``): the `data` of
/// each `runtime` event.
///
/// yagna's JSON is snake_case: `{"batch_id":…,"index":0,"timestamp":"2025-01-01T00:00:00.123456",
/// "kind":{…}}`, the kind externally tagged: `{"started":{"command":{…}}}`,
/// `{"finished":{"return_code":0,"message":null}}`, `{"stdout":"text"}` or `{"stdout":[bytes…]}` (as
/// the `run`'s capture format says), the same for `stderr`, `{"progress":{…}}`. A kind this model
/// does not know is kept as ``Kind/unknown(_:)``, not refused.
public struct RuntimeEvent: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// The command began; `command` as yagna echoes it.
        case started(command: JSONValue?)
        case finished(returnCode: Int, message: String?)
        /// A piece of the command's stdout (only for a `run` whose capture is ``ExeScriptCommand/Capture/Mode/stream(limit:format:)``).
        case stdout(ExeScriptCommandResult.Output)
        case stderr(ExeScriptCommandResult.Output)
        case progress(JSONValue)
        /// A kind this model does not read: its tag.
        case unknown(String)
    }

    public var batchId: String
    /// The command's index in its batch.
    public var index: Int
    /// As yagna writes it (chrono's `NaiveDateTime`, no zone); nil when absent.
    public var timestamp: String?
    public var kind: Kind

    public init(batchId: String, index: Int, timestamp: String? = nil, kind: Kind) {
        self.batchId = batchId
        self.index = index
        self.timestamp = timestamp
        self.kind = kind
    }

    /// Reads one event's `data`.
    public static func decode(_ data: String) throws -> RuntimeEvent {
        try JSONDecoder().decode(RuntimeEvent.self, from: Data(data.utf8))
    }
}

extension RuntimeEvent: Decodable {
    enum CodingKeys: String, CodingKey {
        case batchId = "batch_id"
        case index, timestamp, kind
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            batchId: try container.decode(String.self, forKey: .batchId),
            index: try container.decode(Int.self, forKey: .index),
            timestamp: try container.decodeIfPresent(String.self, forKey: .timestamp),
            kind: try container.decode(Kind.self, forKey: .kind)
        )
    }
}

extension RuntimeEvent.Kind: Decodable {
    public init(from decoder: any Decoder) throws {
        typealias Key = ExeScriptCommand.Key
        let tagged = try decoder.container(keyedBy: Key.self)
        guard tagged.allKeys.count == 1, let tag = tagged.allKeys.first else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "an event kind is an object with one key"))
        }
        switch tag.stringValue {
        case "started":
            let body = try tagged.nestedContainer(keyedBy: Key.self, forKey: tag)
            self = .started(command: try body.decodeIfPresent(JSONValue.self, forKey: Key("command")))
        case "finished":
            let body = try tagged.nestedContainer(keyedBy: Key.self, forKey: tag)
            let code = Key("return_code")
            self = .finished(
                returnCode: try body.decodeIfPresent(Int.self, forKey: code) ?? body.decode(Int.self, forKey: Key("returnCode")),
                message: try body.decodeIfPresent(String.self, forKey: Key("message"))
            )
        case "stdout":
            self = .stdout(try tagged.decode(ExeScriptCommandResult.Output.self, forKey: tag))
        case "stderr":
            self = .stderr(try tagged.decode(ExeScriptCommandResult.Output.self, forKey: tag))
        case "progress":
            self = .progress(try tagged.decode(JSONValue.self, forKey: tag))
        case let other:
            self = .unknown(other)
        }
    }
}
