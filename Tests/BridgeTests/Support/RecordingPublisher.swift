import AMQP
import Synchronization
@testable import Bridge

/// An in-memory ``EventPublishing``: confirms every message at once (or fails, while `failing`) and
/// keeps what was published.
final class RecordingPublisher: EventPublishing {
    struct Message: Sendable {
        var exchange: String
        var routingKey: String
        var body: [UInt8]
        var properties: MessageProperties
    }

    private let state = Mutex<(messages: [Message], failing: Bool)>(([], false))

    var messages: [Message] { state.withLock { $0.messages } }

    /// While true, every publish throws, as when the broker is gone.
    var failing: Bool {
        get { state.withLock { $0.failing } }
        set { state.withLock { $0.failing = newValue } }
    }

    func publish(
        exchange: String, routingKey: String, body: [UInt8], properties: MessageProperties, mandatory: Bool
    ) async throws {
        try state.withLock { state in
            if state.failing { throw AMQPError(.connectionClosed, "test broker is down") }
            state.messages.append(Message(exchange: exchange, routingKey: routingKey, body: body, properties: properties))
        }
    }

    /// The messages published to `exchange`.
    func messages(to exchange: String) -> [Message] { messages.filter { $0.exchange == exchange } }
}

/// An in-memory ``DeliveryAcknowledging`` that records how each delivery was settled.
final class RecordingAcknowledger: DeliveryAcknowledging {
    enum Settlement: Hashable, Sendable {
        case ack
        case nack(requeue: Bool)
        case reject(requeue: Bool)
    }

    private let settled = Mutex<[UInt64: Settlement]>([:])

    subscript(tag: UInt64) -> Settlement? { settled.withLock { $0[tag] } }

    func ack(_ tag: UInt64, multiple: Bool) { settled.withLock { $0[tag] = .ack } }
    func nack(_ tag: UInt64, multiple: Bool, requeue: Bool) { settled.withLock { $0[tag] = .nack(requeue: requeue) } }
    func reject(_ tag: UInt64, requeue: Bool) { settled.withLock { $0[tag] = .reject(requeue: requeue) } }
}
