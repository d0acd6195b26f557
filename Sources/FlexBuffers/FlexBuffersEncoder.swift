/// Writes a `FlexValue` as a FlexBuffers buffer.
///
/// The layout follows the reference builders (Google's C++, Python and Rust `flexbuffers`):
/// every number takes the narrowest width that holds it (floats 32 bits when exact, else 64),
/// every vector the narrowest width its length, elements and offsets fit, keys are written once
/// per buffer and shared, and a map's key vector is sorted by the keys' UTF-8 bytes. Values are
/// laid out in the order given, keys and values interleaved, so a map whose entries are listed in
/// a Rust struct's field order comes out byte for byte as Rust's serde serializer writes it.
///
/// Never writes indirect numbers or the deprecated typed vector of strings: Rust's serde
/// deserializer cannot read the former.
public struct FlexBuffersEncoder: Sendable {
    /// Whether vectors of one scalar type are written as typed vectors.
    public enum VectorTyping: Sendable, Hashable {
        /// Every vector is untyped, one type byte per element, as Python's `flexbuffers.Dumps` writes.
        case never
        /// A non-empty vector whose elements are all `int`, all `uint`, all `double` or all `bool`
        /// is a typed vector (fixed-length for 2, 3 or 4 numbers), as Rust's serde serializer
        /// writes a `Vec<u64>` or a `[f32; 3]`.
        case homogeneousScalars
    }

    public var vectorTyping: VectorTyping
    /// Whether a key used in several maps is written once and shared, as the reference builders
    /// do by default. yagna builds its GSB WebSocket frames with sharing off; readers accept both.
    public var shareKeys: Bool
    /// How deep vectors and maps may nest; deeper values fail with `.depthLimitExceeded`.
    public var maxDepth: Int

    public init(vectorTyping: VectorTyping = .homogeneousScalars, shareKeys: Bool = true, maxDepth: Int = 128) {
        self.vectorTyping = vectorTyping
        self.shareKeys = shareKeys
        self.maxDepth = maxDepth
    }

    /// The buffer holding `value` as its root.
    ///
    /// Throws `.invalidKey` for a map key containing a NUL byte, `.duplicateKey` for a map with a
    /// key twice, and `.depthLimitExceeded` past `maxDepth`.
    public func encode(_ value: FlexValue) throws(FlexBuffersError) -> [UInt8] {
        var builder = FlexBufferBuilder(vectorTyping: vectorTyping, shareKeys: shareKeys, maxDepth: maxDepth)
        let root = try builder.store(value, depth: 0)
        builder.finish(root: root)
        return builder.buffer
    }
}

/// A value waiting to be written into its parent's slot: either the value itself (inline types)
/// or where it was already written (keys, strings, blobs, vectors, maps).
private enum Slot {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case float(Double)
    case key(address: Int)
    case reference(address: Int, type: WireType, childWidth: BitWidth)

    var type: WireType {
        switch self {
        case .null: .null
        case .bool: .bool
        case .int: .int
        case .uint: .uint
        case .float: .float
        case .key: .key
        case .reference(_, let type, _): type
        }
    }

    /// For an inline value the width it needs; for a reference the width of what it points at.
    var width: BitWidth {
        switch self {
        case .null, .bool, .key: .w8
        case .int(let i): .of(i)
        case .uint(let u): .of(u)
        case .float(let d): .of(d)
        case .reference(_, _, let childWidth): childWidth
        }
    }

    var address: Int? {
        switch self {
        case .key(let address), .reference(let address, _, _): address
        default: nil
        }
    }

    /// The width this value needs as element `index` (prefix slots included) of a vector whose
    /// data starts after `vectorStart` once aligned: a reference's offset grows with the width
    /// that is tried, so try each in turn.
    func width(inVectorAt vectorStart: Int, index: Int) -> BitWidth {
        guard let address else { return width }
        for candidate in [BitWidth.w8, .w16, .w32] {
            let bytes = candidate.byteCount
            let writtenAt = vectorStart + (bytes - vectorStart % bytes) % bytes + index * bytes
            if BitWidth.of(UInt64(writtenAt - address)) <= candidate { return candidate }
        }
        return .w64
    }

    /// The type byte describing this value inside a vector or map of width `parentWidth`.
    func packedType(parentWidth: BitWidth) -> UInt8 {
        if type.isInline { return packType(type, max(parentWidth, width)) }
        return packType(type, width)
    }
}

private struct FlexBufferBuilder {
    let vectorTyping: FlexBuffersEncoder.VectorTyping
    let shareKeys: Bool
    let maxDepth: Int
    var buffer: [UInt8] = []
    /// Where each key was written, so a key used in several maps is stored once.
    var keyAddresses: [[UInt8]: Int] = [:]

    init(vectorTyping: FlexBuffersEncoder.VectorTyping, shareKeys: Bool, maxDepth: Int) {
        self.vectorTyping = vectorTyping
        self.shareKeys = shareKeys
        self.maxDepth = maxDepth
    }

    mutating func finish(root: Slot) {
        let width = root.width(inVectorAt: buffer.count, index: 0)
        align(to: width)
        write(root, width: width)
        buffer.append(root.packedType(parentWidth: width))
        buffer.append(UInt8(width.byteCount))
    }

    mutating func store(_ value: FlexValue, depth: Int) throws(FlexBuffersError) -> Slot {
        switch value {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .uint(let u): return .uint(u)
        case .double(let d): return .float(d)
        case .string(let s): return storeBlob(Array(s.utf8), type: .string)
        case .blob(let bytes): return storeBlob(bytes, type: .blob)
        case .vector(let elements):
            guard depth < maxDepth else { throw depthExceeded() }
            var slots: [Slot] = []
            slots.reserveCapacity(elements.count)
            for element in elements {
                slots.append(try store(element, depth: depth + 1))
            }
            return storeVector(slots, type: vectorType(of: slots))
        case .map(let entries):
            guard depth < maxDepth else { throw depthExceeded() }
            var pairs: [(key: [UInt8], keySlot: Slot, value: Slot)] = []
            pairs.reserveCapacity(entries.count)
            for entry in entries {
                let key = Array(entry.key.utf8)
                let keySlot = try storeKey(key)
                pairs.append((key, keySlot, try store(entry.value, depth: depth + 1)))
            }
            pairs.sort { $0.key.lexicographicallyPrecedes($1.key) }
            for (previous, next) in zip(pairs, pairs.dropFirst()) where previous.key == next.key {
                throw FlexBuffersError(.duplicateKey, "map has the key \"\(String(decoding: next.key, as: UTF8.self))\" twice")
            }
            let keys = storeVector(pairs.map(\.keySlot), type: .vectorKey)
            return storeVector(pairs.map(\.value), type: .map, keys: keys)
        }
    }

    private func depthExceeded() -> FlexBuffersError {
        FlexBuffersError(.depthLimitExceeded, "vectors and maps nest deeper than \(maxDepth)")
    }

    private func vectorType(of slots: [Slot]) -> WireType {
        guard vectorTyping == .homogeneousScalars, let first = slots.first?.type,
            first == .int || first == .uint || first == .float || first == .bool,
            slots.allSatisfy({ $0.type == first })
        else { return .vector }
        return first.typedVector(count: slots.count) ?? .vector
    }

    private mutating func storeKey(_ key: [UInt8]) throws(FlexBuffersError) -> Slot {
        if let address = keyAddresses[key] { return .key(address: address) }
        guard !key.contains(0) else {
            throw FlexBuffersError(.invalidKey, "map key \"\(String(decoding: key, as: UTF8.self))\" contains a NUL byte")
        }
        let address = buffer.count
        buffer.append(contentsOf: key)
        buffer.append(0)
        if shareKeys { keyAddresses[key] = address }
        return .key(address: address)
    }

    /// A length-prefixed byte string; a `string` also gets a NUL terminator the length omits.
    private mutating func storeBlob(_ bytes: [UInt8], type: WireType) -> Slot {
        let width = BitWidth.of(UInt64(bytes.count))
        align(to: width)
        writeUInt(UInt64(bytes.count), width: width)
        let address = buffer.count
        buffer.append(contentsOf: bytes)
        if type == .string { buffer.append(0) }
        return .reference(address: address, type: type, childWidth: width)
    }

    /// A vector, typed vector or map of `elements`; a map needs its already stored `keys` vector.
    private mutating func storeVector(_ elements: [Slot], type: WireType, keys: Slot? = nil) -> Slot {
        let hasLength = type.fixedLength == nil
        let prefixCount = keys != nil ? 3 : (hasLength ? 1 : 0)
        let start = buffer.count
        var width = BitWidth.w8
        if let keys { width = max(width, keys.width(inVectorAt: start, index: 0)) }
        if hasLength { width = max(width, .of(UInt64(elements.count))) }
        for (i, element) in elements.enumerated() {
            width = max(width, element.width(inVectorAt: start, index: prefixCount + i))
        }
        align(to: width)
        if let keys {
            write(keys, width: width)
            writeUInt(UInt64(keys.width.byteCount), width: width)
        }
        if hasLength { writeUInt(UInt64(elements.count), width: width) }
        let address = buffer.count
        for element in elements { write(element, width: width) }
        if type == .vector || type == .map {
            for element in elements { buffer.append(element.packedType(parentWidth: width)) }
        }
        return .reference(address: address, type: type, childWidth: width)
    }

    private mutating func align(to width: BitWidth) {
        let bytes = width.byteCount
        buffer.append(contentsOf: repeatElement(0, count: (bytes - buffer.count % bytes) % bytes))
    }

    /// Writes `slot` into a slot of `width` bytes: the value itself, or the backwards offset
    /// from this slot to where it was stored.
    private mutating func write(_ slot: Slot, width: BitWidth) {
        switch slot {
        case .null: writeUInt(0, width: width)
        case .bool(let b): writeUInt(b ? 1 : 0, width: width)
        case .int(let i): writeUInt(UInt64(bitPattern: i), width: width)
        case .uint(let u): writeUInt(u, width: width)
        case .float(let d):
            if width == .w32 {
                writeUInt(UInt64(Float(d).bitPattern), width: .w32)
            } else {
                writeUInt(d.bitPattern, width: .w64)
            }
        case .key(let address), .reference(let address, _, _):
            writeUInt(UInt64(buffer.count - address), width: width)
        }
    }

    /// Little-endian, truncated to `width` (two's complement for signed values).
    private mutating func writeUInt(_ value: UInt64, width: BitWidth) {
        for i in 0..<width.byteCount {
            buffer.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))))
        }
    }
}
