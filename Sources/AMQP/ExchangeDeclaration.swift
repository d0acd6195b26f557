/// An exchange to declare.
public struct ExchangeDeclaration: Sendable, Hashable {
    public var name: String
    /// "direct", "topic", "fanout", "headers" or a plugin type.
    public var type: String
    public var durable: Bool
    public var autoDelete: Bool
    public var isInternal: Bool
    public var arguments: [String: FieldValue]

    public init(
        name: String, type: String = "direct", durable: Bool = true, autoDelete: Bool = false,
        isInternal: Bool = false, arguments: [String: FieldValue] = [:]
    ) {
        self.name = name
        self.type = type
        self.durable = durable
        self.autoDelete = autoDelete
        self.isInternal = isInternal
        self.arguments = arguments
    }
}
