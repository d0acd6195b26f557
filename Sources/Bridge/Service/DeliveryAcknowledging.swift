import AMQP

/// Settles deliveries by tag: ``AMQPConsumer`` when serving; a recorder in unit tests.
protocol DeliveryAcknowledging: Sendable {
    func ack(_ tag: UInt64, multiple: Bool)
    func nack(_ tag: UInt64, multiple: Bool, requeue: Bool)
    func reject(_ tag: UInt64, requeue: Bool)
}

extension DeliveryAcknowledging {
    func ack(_ tag: UInt64) { ack(tag, multiple: false) }
    func nack(_ tag: UInt64, requeue: Bool) { nack(tag, multiple: false, requeue: requeue) }
}

extension AMQPConsumer: DeliveryAcknowledging {}
