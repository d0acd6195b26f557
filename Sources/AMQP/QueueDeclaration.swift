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
    /// When a queue of this name already exists with other arguments (406 PRECONDITION_FAILED, e.g. a
    /// classic queue where this asks for a quorum queue), use the existing queue instead of failing:
    /// for a queue whose type changed between versions, so an upgrade does not stop at the declare.
    /// The declare then logs a warning naming the queue.
    public var acceptsExistingType: Bool

    public init(
        name: String, durable: Bool = true, exclusive: Bool = false, autoDelete: Bool = false,
        type: QueueType? = nil, arguments: [String: FieldValue] = [:], acceptsExistingType: Bool = false
    ) {
        self.name = name
        self.durable = durable
        self.exclusive = exclusive
        self.autoDelete = autoDelete
        self.type = type
        self.arguments = arguments
        self.acceptsExistingType = acceptsExistingType
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
