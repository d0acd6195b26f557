import FlexBuffers

/// A fixed-seed generator (SplitMix64), so the fuzz tests corrupt the same bytes on every run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Bytes from lowercase hex, as the Rust reference tool prints them.
func bytes(hex: String) -> [UInt8] {
    let digits = Array(hex.utf8)
    return stride(from: 0, to: digits.count - 1, by: 2).map { i in
        UInt8(String(decoding: digits[i...i + 1], as: UTF8.self), radix: 16)!
    }
}

func hex(_ bytes: [UInt8]) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}

/// The error `body` throws, or nil when it returns.
func decodingError(_ body: () throws(FlexBuffersError) -> FlexValue) -> FlexBuffersError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}
