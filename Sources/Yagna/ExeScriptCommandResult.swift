import Foundation

/// One command's result of an ExeScript batch: what `GET /activity/{id}/exec/{batch}` returns to the
/// requestor, and what the exe-unit keeps and answers to `GetExecBatchResults`.
///
/// yagna's fields (camelCase): `index`, `eventDate` (RFC 3339), `result` (`Ok`|`Error`), `stdout` and
/// `stderr` (a string, or bytes for `format: "bin"`, or null), `message`, `isBatchFinished`.
public struct ExeScriptCommandResult: Sendable, Hashable {
    public enum Outcome: String, Sendable, Hashable, Codable {
        case ok = "Ok"
        case error = "Error"
    }

    /// A captured stream: serde's untagged `CommandOutput` (`Str` or `Bin`).
    public enum Output: Sendable, Hashable {
        case text(String)
        case bytes([UInt8])

        /// The output as text (bytes read as UTF-8).
        public var string: String {
            switch self {
            case .text(let text): text
            case .bytes(let bytes): String(decoding: bytes, as: UTF8.self)
            }
        }
    }

    public var index: Int
    public var eventDate: Date
    public var result: Outcome
    public var stdout: Output?
    public var stderr: Output?
    public var message: String?
    public var isBatchFinished: Bool

    public init(
        index: Int, eventDate: Date = Date(), result: Outcome, stdout: Output? = nil, stderr: Output? = nil,
        message: String? = nil, isBatchFinished: Bool = false
    ) {
        self.index = index
        self.eventDate = eventDate
        self.result = result
        self.stdout = stdout
        self.stderr = stderr
        self.message = message
        self.isBatchFinished = isBatchFinished
    }

    public var isError: Bool { result == .error }

    /// `eventDate` as chrono writes `DateTime<Utc>` (RFC 3339, UTC, fractional seconds); it reads
    /// any RFC 3339 time, with or without fractions.
    public static let eventDateFormat = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
}

extension ExeScriptCommandResult: Codable {
    enum CodingKeys: String, CodingKey {
        case index, eventDate, result, stdout, stderr, message, isBatchFinished
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let date = try container.decode(String.self, forKey: .eventDate)
        guard let eventDate = try? Self.eventDateFormat.parse(date) else {
            throw DecodingError.dataCorruptedError(forKey: .eventDate, in: container, debugDescription: "\(date) is not an RFC 3339 time")
        }
        self.init(
            index: try container.decode(Int.self, forKey: .index),
            eventDate: eventDate,
            result: try container.decode(Outcome.self, forKey: .result),
            stdout: try container.decodeIfPresent(Output.self, forKey: .stdout),
            stderr: try container.decodeIfPresent(Output.self, forKey: .stderr),
            message: try container.decodeIfPresent(String.self, forKey: .message),
            isBatchFinished: try container.decodeIfPresent(Bool.self, forKey: .isBatchFinished) ?? false
        )
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(index, forKey: .index)
        try container.encode(Self.eventDateFormat.format(eventDate), forKey: .eventDate)
        try container.encode(result, forKey: .result)
        try container.encode(stdout, forKey: .stdout)
        try container.encode(stderr, forKey: .stderr)
        try container.encode(message, forKey: .message)
        try container.encode(isBatchFinished, forKey: .isBatchFinished)
    }
}

extension ExeScriptCommandResult.Output: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self = .text(text)
        } else {
            self = .bytes(try container.decode([UInt8].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .text(let text): try container.encode(text)
        case .bytes(let bytes): try container.encode(bytes)
        }
    }
}
