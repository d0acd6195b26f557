/// A JSON document as the contract codecs read and write it.
///
/// Objects keep their members in order, so encoding is deterministic and follows the order the
/// codec wrote them in. Numbers keep their literal text, so a value passed through (an `uploadJson`
/// value, a downloaded JSON file) is re-encoded exactly as it came.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    /// A valid JSON number literal, e.g. `1`, `-0.5`, `2e10`.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([JSONMember])

    /// An integer number.
    public static func int(_ value: Int) -> JSONValue { .number(String(value)) }

    /// The members' value for `key`, when this is an object that has it.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first(where: { $0.key == key })?.value
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The number as a `Double`, when this is a number.
    public var doubleValue: Double? {
        if case .number(let literal) = self { return Double(literal) }
        return nil
    }

    /// The number as an `Int`, when this is a number with an integral value that fits.
    public var intValue: Int? {
        guard case .number(let literal) = self else { return nil }
        if let i = Int(literal) { return i }
        guard let d = Double(literal), d.rounded() == d, abs(d) < 9.0e15 else { return nil }
        return Int(d)
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
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
