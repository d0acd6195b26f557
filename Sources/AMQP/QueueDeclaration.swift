/// A queue to declare. An empty `name` asks the broker for a server-named queue; bindings whose
/// `queue` is "" then bind that queue, and `AMQPConsumer.queueName` reports its name.
public struct QueueDeclaration: Sendable, Hashable {
    public enum QueueType: String, Sendable, Hashable {
        case classic
        case quorum
    }

    public var name: String
    public var durable: Bool
    public var exclusive: Bool
    public var autoDelete: Bool
    /// Sent as the `x-queue-type` argument when set. Quorum queues must be durable and not exclusive.
    public var type: QueueType?
    public var arguments: [String: FieldValue]

    public init(
        name: String, durable: Bool = true, exclusive: Bool = false, autoDelete: Bool = false,
        type: QueueType? = nil, arguments: [String: FieldValue] = [:]
    ) {
        self.name = name
        self.durable = durable
        self.exclusive = exclusive
        self.autoDelete = autoDelete
        self.type = type
        self.arguments = arguments
    }

    /// A server-named, exclusive, auto-delete, non-durable queue (e.g. for control messages).
    public static func serverNamed(arguments: [String: FieldValue] = [:]) -> QueueDeclaration {
        QueueDeclaration(name: "", durable: false, exclusive: true, autoDelete: true, arguments: arguments)
    }

    /// The arguments actually sent, including `x-queue-type`.
    var effectiveArguments: [String: FieldValue] {
        var args = arguments
        if let type { args["x-queue-type"] = .string(type.rawValue) }
        return args
    }
}
