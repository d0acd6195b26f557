/// Reads a FlexBuffers buffer into a `FlexValue`.
///
/// Reads every type the format defines: inline and indirect numbers of every width, keys,
/// strings, blobs, vectors, maps, typed and fixed-length typed vectors, and bools. The buffer is
/// treated as hostile: every offset and length is checked against its bounds before use, strings
/// and keys must be valid UTF-8, nesting is capped by `maxDepth`, and buffers whose offsets share
/// data so that the decoded value would balloon are cut off by `expansionLimit`. Any failure is
/// a thrown `FlexBuffersError`; nothing traps.
public struct FlexBuffersDecoder: Sendable {
    /// How deep vectors and maps may nest; deeper buffers fail with `.depthLimitExceeded`.
    public var maxDepth: Int
    /// How many times the input size the decoded value may weigh, counting one per element plus
    /// the bytes of every string, blob and distinct key; past it decoding fails with
    /// `.sizeLimitExceeded`. Only buffers that reuse offsets many times come near it.
    public var expansionLimit: Int

    public init(maxDepth: Int = 128, expansionLimit: Int = 16) {
        self.maxDepth = maxDepth
        self.expansionLimit = expansionLimit
    }

    /// The root value of `bytes`, a complete buffer (the root's type and width are its last two bytes).
    public func decode(_ bytes: [UInt8]) throws(FlexBuffersError) -> FlexValue {
        var reader = BufferReader(
            bytes: bytes,
            maxDepth: maxDepth,
            budget: expansionLimit.multipliedReportingOverflow(by: bytes.count).partialValue + 4096
        )
        return try reader.readRoot()
    }
}

private struct BufferReader {
    let bytes: [UInt8]
    let maxDepth: Int
    var budget: Int
    /// Keys already decoded, by address: maps usually share their keys.
    var keys: [Int: String] = [:]

    init(bytes: [UInt8], maxDepth: Int, budget: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
        self.budget = budget
    }

    mutating func readRoot() throws(FlexBuffersError) -> FlexValue {
        let end = bytes.count
        guard end >= 3 else {
            throw FlexBuffersError(.truncated, "a buffer needs at least 3 bytes, this one has \(end)")
        }
        guard let rootWidth = BitWidth(byteCount: UInt64(bytes[end - 1])) else {
            throw FlexBuffersError(.invalidWidth, "root width \(bytes[end - 1]) is not 1, 2, 4 or 8", offset: end - 1)
        }
        let (type, width) = try unpack(bytes[end - 2], at: end - 2)
        let address = end - 2 - rootWidth.byteCount
        guard address >= 0 else {
            throw FlexBuffersError(.truncated, "the \(rootWidth.byteCount)-byte root does not fit before its type byte", offset: 0)
        }
        return try value(at: address, parentWidth: rootWidth, type: type, width: width, depth: 0)
    }

    /// The value in the slot at `address`, `parentWidth` bytes wide, of `type`; `width` is the
    /// packed width (for a reference, the width of what it points at).
    mutating func value(
        at address: Int, parentWidth: BitWidth, type: WireType, width: BitWidth, depth: Int
    ) throws(FlexBuffersError) -> FlexValue {
        try spend(1, at: address)
        switch type {
        case .null:
            return .null
        case .bool:
            return .bool(try readUInt(at: address, width: parentWidth) != 0)
        case .int:
            return .int(try readInt(at: address, width: parentWidth))
        case .uint:
            return .uint(try readUInt(at: address, width: parentWidth))
        case .float:
            return .double(try readFloat(at: address, width: parentWidth))
        case .indirectInt:
            return .int(try readInt(at: try target(of: address, width: parentWidth), width: width))
        case .indirectUInt:
            return .uint(try readUInt(at: try target(of: address, width: parentWidth), width: width))
        case .indirectFloat:
            return .double(try readFloat(at: try target(of: address, width: parentWidth), width: width))
        case .key:
            return .string(try readKey(inSlot: address, width: parentWidth))
        case .string, .blob:
            let start = try target(of: address, width: parentWidth)
            let count = try length(before: start, width: width)
            guard count <= bytes.count - start else {
                throw FlexBuffersError(.outOfBounds, "\(type) of \(count) bytes runs past the end", offset: start)
            }
            try spend(count, at: start)
            let content = bytes[start..<start + count]
            if type == .blob { return .blob(Array(content)) }
            guard let string = String(validating: content, as: UTF8.self) else {
                throw FlexBuffersError(.invalidString, "string is not valid UTF-8", offset: start)
            }
            return .string(string)
        case .map:
            return try readMap(at: try target(of: address, width: parentWidth), width: width, depth: depth)
        default:
            break
        }
        // Vectors, typed or not.
        guard depth < maxDepth else {
            throw FlexBuffersError(.depthLimitExceeded, "vectors and maps nest deeper than \(maxDepth)", offset: address)
        }
        let start = try target(of: address, width: parentWidth)
        let count: Int
        if let fixedLength = type.fixedLength {
            count = fixedLength
        } else {
            count = try length(before: start, width: width)
        }
        let elementType = type.typedElementType
        // Data, then (untyped only) one type byte per element.
        let typeTable = start + count * width.byteCount
        guard typeTable + (elementType == nil ? count : 0) <= bytes.count else {
            throw FlexBuffersError(.outOfBounds, "vector of \(count) elements runs past the end", offset: start)
        }
        var elements: [FlexValue] = []
        elements.reserveCapacity(count)
        for i in 0..<count {
            let slot = start + i * width.byteCount
            if let elementType {
                // A vector of strings (deprecated) reads as keys, as Rust's reader does: the
                // width of each string's length prefix is not recorded anywhere.
                if elementType == .key || elementType == .string {
                    try spend(1, at: slot)
                    elements.append(.string(try readKey(inSlot: slot, width: width)))
                } else {
                    elements.append(try value(at: slot, parentWidth: width, type: elementType, width: width, depth: depth + 1))
                }
            } else {
                let (type, packedWidth) = try unpack(bytes[typeTable + i], at: typeTable + i)
                elements.append(try value(at: slot, parentWidth: width, type: type, width: packedWidth, depth: depth + 1))
            }
        }
        return .vector(elements)
    }

    /// A map: before its values, the offset to its key vector, that vector's width, and the count.
    private mutating func readMap(at start: Int, width: BitWidth, depth: Int) throws(FlexBuffersError) -> FlexValue {
        guard depth < maxDepth else {
            throw FlexBuffersError(.depthLimitExceeded, "vectors and maps nest deeper than \(maxDepth)", offset: start)
        }
        let w = width.byteCount
        guard start >= 3 * w else {
            throw FlexBuffersError(.outOfBounds, "map prefix starts before the buffer", offset: start)
        }
        let keyVector = try target(of: start - 3 * w, width: width)
        let keyWidthBytes = try readUInt(at: start - 2 * w, width: width)
        guard let keyWidth = BitWidth(byteCount: keyWidthBytes) else {
            throw FlexBuffersError(.invalidWidth, "map key vector width \(keyWidthBytes) is not 1, 2, 4 or 8", offset: start - 2 * w)
        }
        let count = try length(before: start, width: width)
        let typeTable = start + count * w
        guard typeTable + count <= bytes.count else {
            throw FlexBuffersError(.outOfBounds, "map of \(count) values runs past the end", offset: start)
        }
        guard keyVector + count * keyWidth.byteCount <= bytes.count else {
            throw FlexBuffersError(.outOfBounds, "map's key vector of \(count) keys runs past the end", offset: keyVector)
        }
        var entries: [(key: String, value: FlexValue)] = []
        entries.reserveCapacity(count)
        var seen: Set<String> = []
        for i in 0..<count {
            let keySlot = keyVector + i * keyWidth.byteCount
            let key = try readKey(inSlot: keySlot, width: keyWidth)
            guard seen.insert(key).inserted else {
                throw FlexBuffersError(.duplicateKey, "map has the key \"\(key)\" twice", offset: keySlot)
            }
            let (type, packedWidth) = try unpack(bytes[typeTable + i], at: typeTable + i)
            let value = try value(at: start + i * w, parentWidth: width, type: type, width: packedWidth, depth: depth + 1)
            entries.append((key, value))
        }
        return .map(entries)
    }

    /// The NUL-terminated UTF-8 key that the offset in the slot at `slot` points at.
    private mutating func readKey(inSlot slot: Int, width: BitWidth) throws(FlexBuffersError) -> String {
        let start = try target(of: slot, width: width)
        if let key = keys[start] { return key }
        guard let end = bytes[start...].firstIndex(of: 0) else {
            throw FlexBuffersError(.invalidString, "key has no NUL terminator", offset: start)
        }
        try spend(end - start, at: start)
        guard let key = String(validating: bytes[start..<end], as: UTF8.self) else {
            throw FlexBuffersError(.invalidString, "key is not valid UTF-8", offset: start)
        }
        keys[start] = key
        return key
    }

    /// The address the backwards offset stored in the slot at `slot` points at.
    private func target(of slot: Int, width: BitWidth) throws(FlexBuffersError) -> Int {
        let offset = try readUInt(at: slot, width: width)
        guard offset <= UInt64(slot) else {
            throw FlexBuffersError(.outOfBounds, "offset \(offset) points before the start of the buffer", offset: slot)
        }
        return slot - Int(offset)
    }

    /// The length stored in the `width`-byte slot just before `start`, no larger than the buffer.
    private func length(before start: Int, width: BitWidth) throws(FlexBuffersError) -> Int {
        guard start >= width.byteCount else {
            throw FlexBuffersError(.outOfBounds, "length prefix starts before the buffer", offset: start)
        }
        let count = try readUInt(at: start - width.byteCount, width: width)
        guard count <= UInt64(bytes.count) else {
            throw FlexBuffersError(.outOfBounds, "length \(count) exceeds the buffer", offset: start - width.byteCount)
        }
        return Int(count)
    }

    private func unpack(_ packed: UInt8, at offset: Int) throws(FlexBuffersError) -> (WireType, BitWidth) {
        guard let type = WireType(rawValue: packed >> 2) else {
            throw FlexBuffersError(.invalidType, "type byte \(packed) names no type (\(packed >> 2))", offset: offset)
        }
        return (type, BitWidth(rawValue: packed & 3)!)
    }

    private func readUInt(at address: Int, width: BitWidth) throws(FlexBuffersError) -> UInt64 {
        guard address >= 0, address <= bytes.count - width.byteCount else {
            throw FlexBuffersError(.outOfBounds, "\(width.byteCount)-byte value runs past the end", offset: address)
        }
        var value: UInt64 = 0
        for i in 0..<width.byteCount {
            value |= UInt64(bytes[address + i]) << (8 * UInt64(i))
        }
        return value
    }

    private func readInt(at address: Int, width: BitWidth) throws(FlexBuffersError) -> Int64 {
        let raw = try readUInt(at: address, width: width)
        switch width {
        case .w8: return Int64(Int8(truncatingIfNeeded: raw))
        case .w16: return Int64(Int16(truncatingIfNeeded: raw))
        case .w32: return Int64(Int32(truncatingIfNeeded: raw))
        case .w64: return Int64(bitPattern: raw)
        }
    }

    private func readFloat(at address: Int, width: BitWidth) throws(FlexBuffersError) -> Double {
        switch width {
        case .w32: return Double(Float(bitPattern: UInt32(truncatingIfNeeded: try readUInt(at: address, width: .w32))))
        case .w64: return Double(bitPattern: try readUInt(at: address, width: .w64))
        case .w8, .w16:
            throw FlexBuffersError(.invalidWidth, "\(width.byteCount)-byte floats do not exist", offset: address)
        }
    }

    private mutating func spend(_ units: Int, at offset: Int) throws(FlexBuffersError) {
        budget -= units
        guard budget >= 0 else {
            throw FlexBuffersError(.sizeLimitExceeded, "decoded value outgrows the expansion limit", offset: offset)
        }
    }
}
