/// A JSON document: the one JSON model of the package, for the Bridge's contract codecs, the CLI,
/// and yagna's REST bodies (through `Codable`).
///
/// Objects keep their members in order, so encoding is deterministic and follows the order the
/// writer put them in. Numbers keep their literal text, so a value passed through (an `uploadJson`
/// value, a downloaded JSON file) is re-encoded exactly as it came; equality is by that text
/// (`1` and `1.0` differ). Not the FlexBuffers model (`FlexValue`): that one is a binary wire format
/// with types JSON lacks (unsigned ints, blobs, typed vectors) that yagna's GSB frames carry.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    /// A valid JSON number literal, e.g. `1`, `-0.5`, `2e10`.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([JSONMember])

    /// An integer number, written as its decimal digits.
    public static func int(_ value: some BinaryInteger) -> JSONValue { .number(String(value)) }

    /// A floating-point number, written as Swift's shortest text that reads back as the same
    /// `Double` (`0.5`, `8.0`, `1e-05`). A whole value keeps its `.0` here; `Codable` (yagna's path)
    /// writes it as an integer, see ``encode(to:)``. NaN and infinities, which JSON cannot hold,
    /// become `null`, as JavaScript's `JSON.stringify` does.
    public static func double(_ value: Double) -> JSONValue {
        value.isFinite ? .number(value.description) : .null
    }

    /// The member `key`, when this is an object that has it (the first one, should there be more).
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first(where: { $0.key == key })?.value
    }

    public var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The number as a `Double`, whether written as an integer or not.
    public var number: Double? {
        if case .number(let literal) = self { return Double(literal) }
        return nil
    }

    /// The number as an `Int`, when its value is integral and fits (`3`, `3.0` and `3e0` all read 3).
    public var int: Int? {
        guard case .number(let literal) = self else { return nil }
        if let i = Int(literal) { return i }
        // Below 9e15 (< 2^53) every integral Double converts exactly.
        guard let d = Double(literal), d.rounded() == d, abs(d) < 9.0e15 else { return nil }
        return Int(d)
    }

    public var bool: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var array: [JSONValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// The members, in order, when this is an object.
    public var object: [JSONMember]? {
        if case .object(let members) = self { return members }
        return nil
    }

    /// The members by name, when this is an object, for maps whose order means nothing (yagna's
    /// flat property maps). The first of duplicate names wins, as in the subscript.
    public var dictionary: [String: JSONValue]? {
        guard case .object(let members) = self else { return nil }
        return Dictionary(members.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
    }

    /// The JSON type name, as JSON Schema names it.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

/// One member of a JSON object.
public struct JSONMember: Sendable, Hashable {
    public var key: String
    public var value: JSONValue

    public init(_ key: String, _ value: JSONValue) {
        self.key = key
        self.value = value
    }
}
