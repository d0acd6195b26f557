/// The FlexBuffers type tags, as the upper six bits of a packed type byte carry them.
enum WireType: UInt8 {
    case null = 0
    case int = 1
    case uint = 2
    case float = 3
    case key = 4
    case string = 5
    case indirectInt = 6
    case indirectUInt = 7
    case indirectFloat = 8
    case map = 9
    case vector = 10
    case vectorInt = 11
    case vectorUInt = 12
    case vectorFloat = 13
    case vectorKey = 14
    /// Deprecated for writing: its elements' length width is unknowable (flatbuffers issue 5627).
    case vectorString = 15
    case vectorInt2 = 16
    case vectorUInt2 = 17
    case vectorFloat2 = 18
    case vectorInt3 = 19
    case vectorUInt3 = 20
    case vectorFloat3 = 21
    case vectorInt4 = 22
    case vectorUInt4 = 23
    case vectorFloat4 = 24
    case blob = 25
    case bool = 26
    case vectorBool = 36

    /// Stored in the slot itself rather than behind an offset.
    var isInline: Bool {
        switch self {
        case .null, .int, .uint, .float, .bool: true
        default: false
        }
    }

    /// For a typed vector, the type of its elements.
    var typedElementType: WireType? {
        switch self {
        case .vectorInt, .vectorInt2, .vectorInt3, .vectorInt4: .int
        case .vectorUInt, .vectorUInt2, .vectorUInt3, .vectorUInt4: .uint
        case .vectorFloat, .vectorFloat2, .vectorFloat3, .vectorFloat4: .float
        case .vectorKey: .key
        case .vectorString: .string
        case .vectorBool: .bool
        default: nil
        }
    }

    /// For a fixed-length typed vector, its length (it has no length slot).
    var fixedLength: Int? {
        switch self {
        case .vectorInt2, .vectorUInt2, .vectorFloat2: 2
        case .vectorInt3, .vectorUInt3, .vectorFloat3: 3
        case .vectorInt4, .vectorUInt4, .vectorFloat4: 4
        default: nil
        }
    }

    /// The typed vector of `count` elements of this scalar type: fixed-length for 2, 3 or 4
    /// ints, uints or floats, as the reference builders choose.
    func typedVector(count: Int) -> WireType? {
        switch (self, count) {
        case (.int, 2): .vectorInt2
        case (.int, 3): .vectorInt3
        case (.int, 4): .vectorInt4
        case (.int, _): .vectorInt
        case (.uint, 2): .vectorUInt2
        case (.uint, 3): .vectorUInt3
        case (.uint, 4): .vectorUInt4
        case (.uint, _): .vectorUInt
        case (.float, 2): .vectorFloat2
        case (.float, 3): .vectorFloat3
        case (.float, 4): .vectorFloat4
        case (.float, _): .vectorFloat
        case (.bool, _): .vectorBool
        case (.key, _): .vectorKey
        default: nil
        }
    }
}

/// The width of a slot: 1, 2, 4 or 8 bytes, as the low two bits of a packed type byte carry it.
enum BitWidth: UInt8, Comparable {
    case w8 = 0, w16 = 1, w32 = 2, w64 = 3

    init?(byteCount: UInt64) {
        switch byteCount {
        case 1: self = .w8
        case 2: self = .w16
        case 4: self = .w32
        case 8: self = .w64
        default: return nil
        }
    }

    var byteCount: Int { 1 << Int(rawValue) }

    /// The narrowest width that holds `value` unsigned.
    static func of(_ value: UInt64) -> BitWidth {
        if value <= UInt64(UInt8.max) { return .w8 }
        if value <= UInt64(UInt16.max) { return .w16 }
        if value <= UInt64(UInt32.max) { return .w32 }
        return .w64
    }

    /// The narrowest width that holds `value` signed.
    static func of(_ value: Int64) -> BitWidth {
        if Int64(Int8.min)...Int64(Int8.max) ~= value { return .w8 }
        if Int64(Int16.min)...Int64(Int16.max) ~= value { return .w16 }
        if Int64(Int32.min)...Int64(Int32.max) ~= value { return .w32 }
        return .w64
    }

    /// 32 bits when a `Float` holds `value` exactly, else 64 (NaN included), as the reference
    /// builders decide.
    static func of(_ value: Double) -> BitWidth {
        Double(Float(value)) == value ? .w32 : .w64
    }

    static func < (lhs: BitWidth, rhs: BitWidth) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A packed type byte: the type in the upper six bits, the width in the lower two.
func packType(_ type: WireType, _ width: BitWidth) -> UInt8 {
    type.rawValue << 2 | width.rawValue
}
