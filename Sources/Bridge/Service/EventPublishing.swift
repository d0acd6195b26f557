import AMQP

/// Where the bridge publishes: events, dead letters, status replies. ``AMQPPublisher`` when serving;
/// an in-memory recorder in unit tests, so the bridge's core runs without a broker.
protocol EventPublishing: Sendable {
    /// Publishes one message and returns when the broker confirmed it.
    func publish(
        exchange: String, routingKey: String, body: [UInt8], properties: MessageProperties, mandatory: Bool
    ) async throws

    /// Publishes the messages in this order and returns each one's outcome once all are settled.
    func publish(_ messages: [OutgoingMessage]) async -> [Result<Void, any Error>]
}

extension EventPublishing {
    func publish(exchange: String, routingKey: String, body: [UInt8], properties: MessageProperties) async throws {
        try await publish(exchange: exchange, routingKey: routingKey, body: body, properties: properties, mandatory: false)
    }

    /// One at a time, for publishers without a batch of their own.
    func publish(_ messages: [OutgoingMessage]) async -> [Result<Void, any Error>] {
        var results: [Result<Void, any Error>] = []
        for message in messages {
            do {
                try await publish(
                    exchange: message.exchange, routingKey: message.routingKey, body: message.body,
                    properties: message.properties, mandatory: message.mandatory)
                results.append(.success(()))
            } catch {
                results.append(.failure(error))
            }
        }
        return results
    }
}

extension AMQPPublisher: EventPublishing {}
