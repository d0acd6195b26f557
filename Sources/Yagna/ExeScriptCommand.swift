import Foundation

/// One command of an ExeScript batch: the wire format of yagna's activity API (the `text` of
/// `POST /activity/{id}/exec`, and the `exeScript` of the exe-unit's GSB `Exec`), shared by the
/// requestor (GolemBackend) and the exe-unit (LocalProvider).
///
/// As yagna's serde writes it: externally tagged, one key per command, the fields in snake_case
/// (`entry_point`): `{"deploy":{"env":{…}}}`, `{"start":{"args":[]}}`,
/// `{"run":{"entry_point":…,"args":[…],"capture":{…}}}`, `{"transfer":{"from":…,"to":…}}`,
/// `{"terminate":{}}`. Fields this model does not carry (deploy's `net`, `volumes`, …, transfer's
/// `format`, `depth`, …) are ignored on decoding, as serde ignores unknown keys. Any other command
/// (`sign`, …) or a malformed one fails decoding; ``script(from:)`` names the command's index.
public enum ExeScriptCommand: Sendable, Hashable {
    case deploy(env: [String: String] = [:])
    case start(args: [String] = [])
    /// `capture` nil: the field is absent (yagna's exe-unit then returns no output).
    case run(entryPoint: String, args: [String] = [], capture: Capture? = nil)
    case transfer(from: String, to: String)
    case terminate

    /// The command's tag on the wire.
    public var name: String {
        switch self {
        case .deploy: "deploy"
        case .start: "start"
        case .run: "run"
        case .transfer: "transfer"
        case .terminate: "terminate"
        }
    }

    static let names = ["deploy", "start", "run", "transfer", "terminate"]

    /// Reads a whole script: JSON text of an array of commands. The first unknown or malformed
    /// command refuses the script, and the error names its index.
    public static func script(from json: Data) throws(ExeScriptError) -> [ExeScriptCommand] {
        do {
            return try JSONDecoder().decode([ExeScriptCommand].self, from: json)
        } catch let error as DecodingError {
            throw ExeScriptError(error)
        } catch {
            throw ExeScriptError("the exe script cannot be read: \(error)")
        }
    }

    /// The script as the `text` of yagna's exec request: a JSON array, keys sorted.
    public static func text(_ script: [ExeScriptCommand]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(script), as: UTF8.self)
    }
}

extension ExeScriptCommand: Codable {
    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        let tagged = try decoder.container(keyedBy: Key.self)
        guard tagged.allKeys.count == 1, let tag = tagged.allKeys.first else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath,
                debugDescription: "expected an object with one command name, got \(tagged.allKeys.count) keys"
            ))
        }
        guard Self.names.contains(tag.stringValue) else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath,
                debugDescription: "\(tag.stringValue) is not supported (\(Self.names.joined(separator: ", ")))"
            ))
        }
        let body = try tagged.nestedContainer(keyedBy: Key.self, forKey: tag)
        func required(_ field: String) throws -> String {
            guard let value = try body.decodeIfPresent(String.self, forKey: Key(field)), !value.isEmpty else {
                throw DecodingError.dataCorrupted(.init(codingPath: body.codingPath, debugDescription: "\(field) is missing"))
            }
            return value
        }
        switch tag.stringValue {
        case "deploy":
            self = .deploy(env: try body.decodeIfPresent([String: String].self, forKey: Key("env")) ?? [:])
        case "start":
            self = .start(args: try body.decodeIfPresent([String].self, forKey: Key("args")) ?? [])
        case "run":
            self = .run(
                entryPoint: try required("entry_point"),
                args: try body.decodeIfPresent([String].self, forKey: Key("args")) ?? [],
                capture: try body.decodeIfPresent(Capture.self, forKey: Key("capture"))
            )
        case "transfer":
            self = .transfer(from: try required("from"), to: try required("to"))
        default:
            self = .terminate
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var tagged = encoder.container(keyedBy: Key.self)
        var body = tagged.nestedContainer(keyedBy: Key.self, forKey: Key(name))
        switch self {
        case .deploy(let env):
            if !env.isEmpty { try body.encode(env, forKey: Key("env")) }
        case .start(let args):
            try body.encode(args, forKey: Key("args"))
        case .run(let entryPoint, let args, let capture):
            try body.encode(entryPoint, forKey: Key("entry_point"))
            try body.encode(args, forKey: Key("args"))
            try body.encodeIfPresent(capture, forKey: Key("capture"))
        case .transfer(let from, let to):
            try body.encode(from, forKey: Key("from"))
            try body.encode(to, forKey: Key("to"))
        case .terminate:
            break
        }
    }
}
