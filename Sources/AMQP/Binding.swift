/// A queue-to-exchange binding. `queue == ""` means the server-named queue declared in the same topology.
public struct Binding: Sendable, Hashable {
    public var exchange: String
    public var queue: String
    public var routingKey: String
    public var arguments: [String: FieldValue]

    public init(exchange: String, queue: String, routingKey: String = "", arguments: [String: FieldValue] = [:]) {
        self.exchange = exchange
        self.queue = queue
        self.routingKey = routingKey
        self.arguments = arguments
    }
}
