/// `FlexValue` as a Codable value, shaped like JSON: a bridge to and from Codable types through
/// any format that has an encoder and a decoder, for example
/// `JSONDecoder().decode(FlexValue.self, from: JSONEncoder().encode(reply))`.
///
/// Decoding tries, in order: null, bool, `Int64`, `UInt64`, `Double`, string, array, keyed object
/// (its entries sorted by key, since keyed containers have no order). A `blob` encodes as an array
/// of byte values and so comes back as a `vector` of `int`s; `bytesValue` reads either. Synthesized
/// `Encodable` conformances leave nil optionals out rather than writing null; Rust's serde reads a
/// missing `Option` field as `None`.
extension FlexValue: Codable {
    public init(from decoder: any Decoder) throws {
        if let container = try? decoder.singleValueContainer() {
            if container.decodeNil() {
                self = .null
                return
            }
            if let b = try? container.decode(Bool.self) {
                self = .bool(b)
                return
            }
            if let i = try? container.decode(Int64.self) {
                self = .int(i)
                return
            }
            if let u = try? container.decode(UInt64.self) {
                self = .uint(u)
                return
            }
            if let d = try? container.decode(Double.self) {
                self = .double(d)
                return
            }
            if let s = try? container.decode(String.self) {
                self = .string(s)
                return
            }
        }
        if var array = try? decoder.unkeyedContainer() {
            var elements: [FlexValue] = []
            while !array.isAtEnd {
                elements.append(try array.decode(FlexValue.self))
            }
            self = .vector(elements)
            return
        }
        let object = try decoder.container(keyedBy: EntryKey.self)
        var entries: [(key: String, value: FlexValue)] = []
        for key in object.allKeys {
            entries.append((key.stringValue, try object.decode(FlexValue.self, forKey: key)))
        }
        self = .map(entries.sortedByKey())
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .null:
            var container = encoder.singleValueContainer()
            try container.encodeNil()
        case .bool(let b):
            var container = encoder.singleValueContainer()
            try container.encode(b)
        case .int(let i):
            var container = encoder.singleValueContainer()
            try container.encode(i)
        case .uint(let u):
            var container = encoder.singleValueContainer()
            try container.encode(u)
        case .double(let d):
            var container = encoder.singleValueContainer()
            try container.encode(d)
        case .string(let s):
            var container = encoder.singleValueContainer()
            try container.encode(s)
        case .blob(let bytes):
            var container = encoder.singleValueContainer()
            try container.encode(bytes)
        case .vector(let elements):
            var container = encoder.unkeyedContainer()
            for element in elements { try container.encode(element) }
        case .map(let entries):
            var container = encoder.container(keyedBy: EntryKey.self)
            for entry in entries { try container.encode(entry.value, forKey: EntryKey(entry.key)) }
        }
    }

    private struct EntryKey: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }

        init(_ key: String) { stringValue = key }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
