/// Conversions between `Duration` and plain numbers, written once for the package.
///
/// `Duration` stores 128-bit attoseconds; the standard library converts from `Double` but traps on
/// NaN, infinity and values past its range, and offers no conversion back. These never trap.
extension Duration {
    /// This duration in seconds, as a `Double` (a `TimeInterval`): exact to about 15 significant digits.
    public var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// This duration in whole milliseconds, rounded to the nearest (halves away from zero), clamped
    /// to `Int`'s range.
    public var wholeMilliseconds: Int {
        milliseconds(rounded: .toNearestOrAwayFromZero)
    }

    /// This duration in whole milliseconds, rounded by `rule` (`.up` for a poll timeout that must not
    /// wake early), clamped to `Int`'s range.
    public func milliseconds(rounded rule: FloatingPointRoundingRule) -> Int {
        let (seconds, attoseconds) = components
        let value = (Double(seconds) * 1000 + Double(attoseconds) / 1e15).rounded(rule)
        // Double(Int.max) is 2^63, one past Int.max; anything below it converts.
        if value >= Double(Int.max) { return .max }
        if value <= Double(Int.min) { return .min }
        return Int(value)
    }

    /// `seconds` as a `Duration`, rounded to the nanosecond, for a number that may come from a
    /// computation or a user: NaN is `.zero`, and infinities or values past ±2^63 s saturate there.
    public static func seconds(saturating seconds: Double) -> Duration {
        guard !seconds.isNaN else { return .zero }
        // Below ~292 years nanoseconds fit in Int64: round there, so 0.1 s * 4 is exactly 400 ms.
        if abs(seconds) < 9.2e9 { return .nanoseconds(Int64((seconds * 1e9).rounded())) }
        if seconds >= 9.2e18 { return .seconds(Int64.max) }
        if seconds <= -9.2e18 { return .seconds(Int64.min) }
        return .seconds(Int64(seconds.rounded()))
    }
}
