extension ExeScriptCommand {
    /// What a `run` returns of its stdout and stderr (`capture`): per stream, `{"atEnd":{…}}` with an
    /// optional `head`/`tail`/`headTail` byte count (flattened into it) and `format`, or
    /// `{"stream":{"limit"?, "format"?}}`. A stream absent here is not returned.
    public struct Capture: Sendable, Hashable, Codable {
        public var stdout: Mode?
        public var stderr: Mode?

        public init(stdout: Mode? = nil, stderr: Mode? = nil) {
            self.stdout = stdout
            self.stderr = stderr
        }

        /// Both streams whole, as text, when the command ends: what the backend asks for, and what
        /// the local exe-unit returns for a `run` without `capture`.
        public static let whole = Capture(stdout: .atEnd(format: .str), stderr: .atEnd(format: .str))

        public enum Mode: Sendable, Hashable {
            case atEnd(Part = .all, format: Format? = nil)
            case stream(limit: Int? = nil, format: Format? = nil)

            public var format: Format? {
                switch self {
                case .atEnd(_, let format), .stream(_, let format): format
                }
            }
        }

        /// Which bytes of an `atEnd` stream are kept.
        public enum Part: Sendable, Hashable {
            case all
            case head(Int)
            case tail(Int)
            case headTail(Int)
        }

        /// `str` (alias `string`) or `bin` (alias `binary`); written as serde writes it.
        public enum Format: String, Sendable, Hashable, Codable {
            case str
            case bin

            public init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                switch try container.decode(String.self) {
                case "str", "string": self = .str
                case "bin", "binary": self = .bin
                case let other: throw DecodingError.dataCorruptedError(in: container, debugDescription: "format \(other) is not str or bin")
                }
            }
        }
    }
}

extension ExeScriptCommand.Capture.Mode: Codable {
    public init(from decoder: any Decoder) throws {
        typealias Key = ExeScriptCommand.Key
        let tagged = try decoder.container(keyedBy: Key.self)
        guard tagged.allKeys.count == 1, let tag = tagged.allKeys.first, ["atEnd", "stream"].contains(tag.stringValue) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: #"a capture mode is {"atEnd":{…}} or {"stream":{…}}"#))
        }
        let body = try tagged.nestedContainer(keyedBy: Key.self, forKey: tag)
        let format = try body.decodeIfPresent(ExeScriptCommand.Capture.Format.self, forKey: Key("format"))
        if tag.stringValue == "stream" {
            self = .stream(limit: try Self.count(body, "limit"), format: format)
            return
        }
        var part = ExeScriptCommand.Capture.Part.all
        if let n = try Self.count(body, "head") { part = .head(n) }
        if let n = try Self.count(body, "tail") { part = .tail(n) }
        if let n = try Self.count(body, "headTail") { part = .headTail(n) }
        self = .atEnd(part, format: format)
    }

    /// A byte count (serde `usize`): a whole number ≥ 0; one beyond `Int` counts as `Int.max`.
    private static func count(_ body: KeyedDecodingContainer<ExeScriptCommand.Key>, _ field: String) throws -> Int? {
        let key = ExeScriptCommand.Key(field)
        guard body.contains(key), try !body.decodeNil(forKey: key) else { return nil }
        if let n = try? body.decode(Int.self, forKey: key) {
            guard n >= 0 else { throw DecodingError.dataCorruptedError(forKey: key, in: body, debugDescription: "\(field) is negative") }
            return n
        }
        if (try? body.decode(UInt64.self, forKey: key)) != nil { return .max }
        throw DecodingError.dataCorruptedError(forKey: key, in: body, debugDescription: "\(field) is not a whole number of bytes")
    }

    public func encode(to encoder: any Encoder) throws {
        typealias Key = ExeScriptCommand.Key
        var tagged = encoder.container(keyedBy: Key.self)
        switch self {
        case .atEnd(let part, let format):
            var body = tagged.nestedContainer(keyedBy: Key.self, forKey: Key("atEnd"))
            switch part {
            case .all: break
            case .head(let n): try body.encode(n, forKey: Key("head"))
            case .tail(let n): try body.encode(n, forKey: Key("tail"))
            case .headTail(let n): try body.encode(n, forKey: Key("headTail"))
            }
            try body.encodeIfPresent(format, forKey: Key("format"))
        case .stream(let limit, let format):
            var body = tagged.nestedContainer(keyedBy: Key.self, forKey: Key("stream"))
            try body.encodeIfPresent(limit, forKey: Key("limit"))
            try body.encodeIfPresent(format, forKey: Key("format"))
        }
    }
}
