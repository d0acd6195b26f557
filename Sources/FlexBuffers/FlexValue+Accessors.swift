extension FlexValue {
    /// The value stored under `key`, when this is a map that has it.
    public subscript(key: String) -> FlexValue? {
        guard case .map(let entries) = self else { return nil }
        return entries.first(where: { $0.key == key })?.value
    }

    /// The element at `index`, when this is a vector that long.
    public subscript(index: Int) -> FlexValue? {
        guard case .vector(let elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The string, when this is a string (a key reads as a string too).
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The integer as an `Int`, when this is an `int` or a `uint` that fits.
    public var intValue: Int? {
        switch self {
        case .int(let i): return Int(exactly: i)
        case .uint(let u): return Int(exactly: u)
        default: return nil
        }
    }

    /// The integer as a `UInt64`, when this is a `uint` or a non-negative `int`.
    public var uintValue: UInt64? {
        switch self {
        case .uint(let u): return u
        case .int(let i): return UInt64(exactly: i)
        default: return nil
        }
    }

    /// The number as a `Double`: a `double` as it is, an integer converted (rounding past 2^53).
    public var doubleValue: Double? {
        switch self {
        case .double(let d): return d
        case .int(let i): return Double(i)
        case .uint(let u): return Double(u)
        default: return nil
        }
    }

    /// The bytes of a `blob`, or of a vector of integers in 0...255.
    ///
    /// Rust's serde writes a `Vec<u8>` as a vector of unsigned integers, and only a field marked
    /// `#[serde(with = "serde_bytes")]` as a blob; this accepts both.
    public var bytesValue: [UInt8]? {
        switch self {
        case .blob(let bytes):
            return bytes
        case .vector(let elements):
            var bytes: [UInt8] = []
            bytes.reserveCapacity(elements.count)
            for element in elements {
                guard let u = element.uintValue, let byte = UInt8(exactly: u) else { return nil }
                bytes.append(byte)
            }
            return bytes
        default:
            return nil
        }
    }

    public var vectorValue: [FlexValue]? {
        if case .vector(let elements) = self { return elements }
        return nil
    }

    public var mapValue: [(key: String, value: FlexValue)]? {
        if case .map(let entries) = self { return entries }
        return nil
    }
}
