/// One FlexBuffers value, as the decoder reads it and the encoder writes it.
///
/// The wire format has more types than this enum has cases; they collapse on reading:
/// indirect numbers read as the number, every integer width as `int`/`uint`, 32- and 64-bit
/// floats as `double`, keys as `string`, and typed and fixed-length typed vectors as `vector`.
///
/// `map` keeps its entries in the order given. That order only decides where the encoder lays
/// the entries out in the buffer (it writes the key vector sorted, as the format requires);
/// equality and hashing ignore it, so a map equals the same map read back from its encoding.
///
/// Kept beside JSONModel's `JSONValue` (the package's JSON model) on purpose: this is a binary
/// format with types JSON has no words for (unsigned integers, blobs, typed vectors of a width),
/// and yagna's GSB frames must round-trip them byte for byte. Where a frame carries JSON-shaped
/// data (an ExeScript), it crosses over through `Codable`, not through a conversion of our own.
public enum FlexValue: Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case string(String)
    case blob([UInt8])
    case vector([FlexValue])
    case map([(key: String, value: FlexValue)])
}

extension FlexValue: Equatable {
    public static func == (lhs: FlexValue, rhs: FlexValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.int(let a), .int(let b)): return a == b
        case (.uint(let a), .uint(let b)): return a == b
        case (.double(let a), .double(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.blob(let a), .blob(let b)): return a == b
        case (.vector(let a), .vector(let b)): return a == b
        case (.map(let a), .map(let b)):
            guard a.count == b.count else { return false }
            return zip(a.sortedByKey(), b.sortedByKey()).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }
}

extension FlexValue: Hashable {
    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let b): hasher.combine(1); hasher.combine(b)
        case .int(let i): hasher.combine(2); hasher.combine(i)
        case .uint(let u): hasher.combine(3); hasher.combine(u)
        case .double(let d): hasher.combine(4); hasher.combine(d)
        case .string(let s): hasher.combine(5); hasher.combine(s)
        case .blob(let b): hasher.combine(6); hasher.combine(b)
        case .vector(let v): hasher.combine(7); hasher.combine(v)
        case .map(let entries):
            hasher.combine(8)
            hasher.combine(entries.count)
            for entry in entries.sortedByKey() {
                hasher.combine(entry.key)
                hasher.combine(entry.value)
            }
        }
    }
}

extension Array where Element == (key: String, value: FlexValue) {
    /// The entries in the order FlexBuffers stores map keys: by their UTF-8 bytes.
    func sortedByKey() -> [Element] {
        sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
    }
}
