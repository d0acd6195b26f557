import Foundation

/// A JSON value as yagna's REST and GSB APIs carry it: market properties (flat keys), events,
/// ExeScripts, replies. One type for the requestor (GolemBackend) and the provider (LocalProvider).
///
/// Numbers keep the integer/float distinction of the text: `3` decodes as ``int(_:)`` (exactly, up to
/// `Int64`), `3.5` as ``double(_:)``. Read either as a `Double` with ``number``. A whole ``double(_:)``
/// is written as an integer, because yagna reads counts (`interval-sec`, expiration ms) as integers.
/// Equality is by case: `.int(3) != .double(3)`. Objects are unordered (`Dictionary`); the Bridge's
/// contract codecs have their own order-preserving type.
public enum YagnaJSON: Sendable, Hashable, Codable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([YagnaJSON])
    case object([String: YagnaJSON])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([YagnaJSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: YagnaJSON].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value):
            // Whole values as Int64, not left to Foundation's float format (it writes -0.0 as "-0",
            // which serde_json reads as a float). Below 9e15 (< 2^53) the conversion is exact.
            if value.rounded() == value, abs(value) < 9.0e15 {
                try container.encode(Int64(value))
            } else {
                try container.encode(value)
            }
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// Parses JSON text; throws the decoder's error when it is not JSON.
    public static func parse(_ text: String) throws -> YagnaJSON {
        try JSONDecoder().decode(YagnaJSON.self, from: Data(text.utf8))
    }

    /// The member `key` of an object; nil for a missing key or a value that is not an object.
    public subscript(key: String) -> YagnaJSON? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    /// The value as a number, whether sent as an integer or a float.
    public var number: Double? {
        switch self {
        case .int(let value): Double(value)
        case .double(let value): value
        default: nil
        }
    }

    public var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    public var array: [YagnaJSON]? {
        if case .array(let value) = self { return value }
        return nil
    }

    public var object: [String: YagnaJSON]? {
        if case .object(let value) = self { return value }
        return nil
    }
}
