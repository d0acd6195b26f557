/// `Codable`, so yagna's REST models can hold free-form JSON (market properties, events) and go
/// through `JSONEncoder`/`JSONDecoder` like the rest of their fields.
///
/// A `Decoder` shows neither member order nor a number's text, so decoding is not exact the way
/// ``JSONValue/parse(_:maxDepth:)`` is: members come sorted by key, an integer that fits `Int64` or
/// `UInt64` keeps its digits, any other number becomes the shortest text of its `Double`. Use
/// `parse` where exactness matters (the contract).
extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        if let container = try? decoder.container(keyedBy: MemberKey.self) {
            self = .object(try container.allKeys.sorted { $0.stringValue < $1.stringValue }.map { key in
                JSONMember(key.stringValue, try container.decode(JSONValue.self, forKey: key))
            })
            return
        }
        if var container = try? decoder.unkeyedContainer() {
            var elements: [JSONValue] = []
            if let count = container.count { elements.reserveCapacity(count) }
            while !container.isAtEnd { elements.append(try container.decode(JSONValue.self)) }
            self = .array(elements)
            return
        }
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(UInt64.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else {
            self = .string(try container.decode(String.self))
        }
    }

    /// Members in their order, for encoders that keep it (`JSONEncoder` does not). A number goes
    /// out as an integer when its value is integral and exact as one (an `Int64`/`UInt64` literal, or
    /// a whole value below 2^53 such as `120.0`), otherwise as a `Double`: yagna reads counts
    /// (`interval-sec`, expirations in ms) as integers and refuses `120.0`, and `JSONEncoder` would
    /// write `-0.0` as `-0`, which serde_json reads as a float.
    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .object(let members):
            var container = encoder.container(keyedBy: MemberKey.self)
            for member in members { try container.encode(member.value, forKey: MemberKey(member.key)) }
        case .array(let elements):
            var container = encoder.unkeyedContainer()
            for element in elements { try container.encode(element) }
        case .null:
            var container = encoder.singleValueContainer()
            try container.encodeNil()
        case .bool(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .string(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .number(let literal):
            var container = encoder.singleValueContainer()
            if let value = Int64(literal) {
                try container.encode(value)
            } else if let value = UInt64(literal) {
                try container.encode(value)
            } else if let value = Double(literal) {
                if value.rounded() == value, abs(value) < 9.0e15 {
                    try container.encode(Int64(value))
                } else {
                    try container.encode(value)
                }
            } else {
                throw EncodingError.invalidValue(
                    literal, .init(codingPath: encoder.codingPath, debugDescription: "\(literal) is not a JSON number"))
            }
        }
    }
}

/// A member name as a coding key.
private struct MemberKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }

    init(_ name: String) { stringValue = name }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
