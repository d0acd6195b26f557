/// A message delivered to an `AMQPConsumer`.
///
/// `deliveryTag` is what you pass to `ack`/`nack`/`reject`. Broker delivery tags are scoped to one
/// channel, so the consumer stamps the channel generation into the top 16 bits (the broker's tag is in
/// the low 48 bits). After a reconnect or channel reopen the generation changes and acks for older
/// deliveries are dropped (the broker has already requeued those messages; sending the ack on the new
/// channel would kill it with 406 PRECONDITION_FAILED).
public struct Delivery: Sendable {
    public let deliveryTag: UInt64
    public let redelivered: Bool
    public let exchange: String
    public let routingKey: String
    public let body: [UInt8]
    public let properties: MessageProperties

    public init(
        deliveryTag: UInt64, redelivered: Bool, exchange: String, routingKey: String, body: [UInt8],
        properties: MessageProperties
    ) {
        self.deliveryTag = deliveryTag
        self.redelivered = redelivered
        self.exchange = exchange
        self.routingKey = routingKey
        self.body = body
        self.properties = properties
    }

    /// The channel generation this delivery came from (top 16 bits of `deliveryTag`).
    public var generation: UInt16 { UInt16(truncatingIfNeeded: deliveryTag >> 48) }

    /// The broker's own, channel-scoped delivery tag (low 48 bits of `deliveryTag`).
    public var brokerDeliveryTag: UInt64 { deliveryTag & Delivery.brokerTagMask }

    static let brokerTagMask: UInt64 = (1 << 48) - 1

    static func stamp(_ brokerTag: UInt64, generation: UInt16) -> UInt64 {
        (UInt64(generation) << 48) | (brokerTag & brokerTagMask)
    }
}
