extension FlexValue: ExpressibleByNilLiteral {
    public init(nilLiteral: ()) { self = .null }
}

extension FlexValue: ExpressibleByBooleanLiteral {
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension FlexValue: ExpressibleByIntegerLiteral {
    /// An integer literal is a signed `int`; write `.uint(…)` for an unsigned one.
    public init(integerLiteral value: Int64) { self = .int(value) }
}

extension FlexValue: ExpressibleByFloatLiteral {
    public init(floatLiteral value: Double) { self = .double(value) }
}

extension FlexValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
}

extension FlexValue: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: FlexValue...) { self = .vector(elements) }
}

extension FlexValue: ExpressibleByDictionaryLiteral {
    /// A map with the entries in the order written.
    public init(dictionaryLiteral elements: (String, FlexValue)...) {
        self = .map(elements.map { (key: $0.0, value: $0.1) })
    }
}
