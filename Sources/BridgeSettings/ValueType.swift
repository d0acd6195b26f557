import Foundation

/// How a setting's text becomes its value, and what it must be: the parse includes the bounds, so a
/// value out of range is refused like one that does not parse, with `expected` in the message.
public struct ValueType<Value: Sendable>: Sendable {
    /// What a valid value is, completing "must be ...": `a whole number from 1 to 10000`.
    public let expected: String
    /// The value, or `nil` when the text is not one.
    public let parse: @Sendable (String) -> Value?
    /// The value as `--help` shows a default.
    public let show: @Sendable (Value) -> String

    public init(
        expected: String, parse: @escaping @Sendable (String) -> Value?,
        show: @escaping @Sendable (Value) -> String = { "\($0)" }
    ) {
        self.expected = expected
        self.parse = parse
        self.show = show
    }

    /// The same type, for a setting that may have no value.
    var optional: ValueType<Value?> {
        // `.some(nil)` would read as "parsed, no value": a text that does not parse must stay `nil`.
        ValueType<Value?>(expected: expected, parse: { parse($0).map { .some($0) } }, show: { $0.map(show) ?? "" })
    }
}

extension ValueType where Value == String {
    /// Any text: a path, a URL checked where it is used, a name.
    public static var text: Self { Self(expected: "text", parse: { $0 }, show: { $0 }) }

    /// ASCII text of `length` characters, each one that `allowed` accepts. A check of the bytes, not a
    /// regular expression: Foundation's (`range(of:options: .regularExpression)`) compiles it with ICU,
    /// which `serve` would then load at every start (BENCHMARKS.md, "Idle RSS (issue 13)").
    public static func ascii(
        _ length: ClosedRange<Int>, _ expected: String, allowing allowed: @escaping @Sendable (UInt8) -> Bool
    ) -> Self {
        Self(expected: expected, parse: { text in
            length.contains(text.utf8.count) && text.utf8.allSatisfy { $0 < 0x80 && allowed($0) } ? text : nil
        }, show: { $0 })
    }

    /// An `http://` or `https://` URL with a host.
    public static var httpURL: Self {
        Self(expected: "an http(s) URL", parse: { text in
            guard let url = URL(string: text), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else { return nil }
            return text
        }, show: { $0 })
    }
}

extension ValueType where Value: CaseIterable & RawRepresentable, Value.RawValue == String {
    /// One of the cases' raw values, in any letter case.
    public static var oneOf: Self {
        let names = Value.allCases.map(\.rawValue)
        return Self(
            expected: "one of " + names.joined(separator: ", "),
            parse: { Value(rawValue: $0.lowercased()) },
            show: { $0.rawValue }
        )
    }
}

extension ValueType where Value == Int {
    /// A whole number within `range`.
    public static func integer(_ range: ClosedRange<Int>) -> Self {
        Self(expected: "a whole number " + describe(range), parse: { Int($0).flatMap { range.contains($0) ? $0 : nil } })
    }
}

extension ValueType where Value == Double {
    /// A finite number within `range`.
    public static func number(_ range: ClosedRange<Double>) -> Self {
        Self(expected: "a number " + describe(range), parse: { text in
            Double(text).flatMap { $0.isFinite && range.contains($0) ? $0 : nil }
        }, show: showNumber)
    }

    /// A finite number above `lower` (which is not allowed) and at most `upper`.
    public static func number(above lower: Double, atMost upper: Double = .infinity) -> Self {
        let top = upper == .infinity ? "" : " and at most \(showNumber(upper))"
        return Self(expected: "a number above \(showNumber(lower))" + top, parse: { text in
            Double(text).flatMap { $0.isFinite && $0 > lower && $0 <= upper ? $0 : nil }
        }, show: showNumber)
    }
}

extension ValueType where Value == Decimal {
    /// A decimal number in plain notation (`0.0001`), at least `lower`, or above it when `inclusive`
    /// is false. Exact: GLM amounts are not rounded through `Double`.
    public static func decimal(atLeast lower: Decimal, inclusive: Bool = true) -> Self {
        Self(expected: "a decimal number " + (inclusive ? "of at least" : "above") + " \(lower)", parse: { text in
            guard isPlainDecimal(text),
                  let value = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")),
                  inclusive ? value >= lower : value > lower
            else { return nil }
            return value
        })
    }
}

/// Digits, then optionally a point and more digits (`12`, `0.0001`; not `1.`, `.5`, `1e3`, `-1`).
private func isPlainDecimal(_ text: String) -> Bool {
    let parts = text.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
    return (1...2).contains(parts.count) && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy { (0x30...0x39).contains($0) } }
}

/// `from 1 to 10000`, `of at least 0` (an open top is `Int.max` or infinity).
private func describe<N: Comparable & Numeric>(_ range: ClosedRange<N>) -> String where N: CustomStringConvertible {
    let isOpen = (range.upperBound as? Int) == .max || (range.upperBound as? Double) == .infinity
    let lower = (range.lowerBound as? Double).map(showNumber) ?? "\(range.lowerBound)"
    let upper = (range.upperBound as? Double).map(showNumber) ?? "\(range.upperBound)"
    return isOpen ? "of at least \(lower)" : "from \(lower) to \(upper)"
}

/// `30`, not `30.0`; `0.5` as it is.
private func showNumber(_ value: Double) -> String {
    value.rounded() == value && abs(value) < 1e15 ? String(Int(value)) : "\(value)"
}
