import AMQP

/// Where the bridge publishes: events, dead letters, status replies. ``AMQPPublisher`` when serving;
/// an in-memory recorder in unit tests, so the bridge's core runs without a broker.
protocol EventPublishing: Sendable {
    /// Publishes one message and returns when the broker confirmed it.
    func publish(
        exchange: String, routingKey: String, body: [UInt8], properties: MessageProperties, mandatory: Bool
    ) async throws
}

extension EventPublishing {
    func publish(exchange: String, routingKey: String, body: [UInt8], properties: MessageProperties) async throws {
        try await publish(exchange: exchange, routingKey: routingKey, body: body, properties: properties, mandatory: false)
    }
}

extension AMQPPublisher: EventPublishing {}
