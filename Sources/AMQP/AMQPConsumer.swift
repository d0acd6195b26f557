import Logging

/// Consumes one queue over its own connection, owned by one dedicated OS thread.
///
/// Deliveries arrive on `deliveries` in batches (one array per socket read burst; at most `prefetch`
/// unacknowledged messages exist, which bounds the stream's buffer). The stream survives reconnects:
/// after a connection loss the consumer reconnects with backoff, re-declares `topology`, consumes
/// again and keeps yielding; messages that were unacknowledged come back with `redelivered == true`.
/// It finishes after `close()` (or cancellation of `run()`), and with an error when the first
/// connection attempt fails.
///
/// Acks after a reconnect: each `deliveryTag` carries the channel generation in its top 16 bits.
/// `ack`/`nack`/`reject` for a delivery from an older generation are dropped, not sent: the broker has
/// already requeued that message, and sending the stale tag on the new channel would kill the channel
/// with 406 PRECONDITION_FAILED. A `multiple` ack covers only deliveries of its own generation.
public final class AMQPConsumer: Sendable {
    public let configuration: AMQPConfiguration
    public let topology: Topology
    public let queue: String
    public let prefetch: UInt16
    public let consumerTag: String?
    public let exclusive: Bool
    /// Batches of deliveries. Iterate it from one task.
    public let deliveries: AsyncThrowingStream<[Delivery], any Error>

    let logger: Logger
    let mailbox = Mailbox<ConsumerCommand>()
    let continuation: AsyncThrowingStream<[Delivery], any Error>.Continuation
    let queueNameCell = QueueNameCell()
    let status: ConnectionStatus

    /// - Parameters:
    ///   - queue: the queue to consume; "" means the server-named queue declared in `topology`.
    ///   - onReconnect: called on the connection thread each time the consumer consumes again after a
    ///     connection loss (for a metric); keep it short.
    public init(
        configuration: AMQPConfiguration, topology: Topology, queue: String, prefetch: UInt16,
        consumerTag: String? = nil, exclusive: Bool = false, logger: Logger,
        onReconnect: @escaping @Sendable () -> Void = {}
    ) {
        self.configuration = configuration
        self.topology = topology
        self.queue = queue
        self.prefetch = prefetch
        self.consumerTag = consumerTag
        self.exclusive = exclusive
        var logger = logger
        logger[metadataKey: "amqp.url"] = "\(configuration.redactedURL)"
        logger[metadataKey: "amqp.role"] = "consumer"
        logger[metadataKey: "amqp.queue"] = "\(queue)"
        self.logger = logger
        self.status = ConnectionStatus(onReconnect: onReconnect)
        (deliveries, continuation) = AsyncThrowingStream<[Delivery], any Error>.makeStream()
    }

    /// The queue actually consumed: `queue`, or the broker-generated name of the server-named queue.
    /// Waits until the consumer is consuming (useful as a readiness signal). A server-named queue gets
    /// a new name after a reconnect. Returns "" if the consumer ended before it consumed.
    public var queueName: String {
        get async { await queueNameCell.value }
    }

    /// True while the consumer has a channel consuming `queue`: false before the first consume, during
    /// a reconnect, and after `close()`. A health check may report it.
    public var isConsuming: Bool { status.isUp }

    public func ack(_ tag: UInt64, multiple: Bool = false) {
        send(.ack(tag, multiple: multiple))
    }

    public func nack(_ tag: UInt64, multiple: Bool = false, requeue: Bool) {
        send(.nack(tag, multiple: multiple, requeue: requeue))
    }

    public func reject(_ tag: UInt64, requeue: Bool) {
        send(.reject(tag, requeue: requeue))
    }

    private func send(_ command: ConsumerCommand) {
        if !mailbox.post(command) {
            logger.debug("AMQP consumer is closed; dropped \(command)")
        }
    }

    /// Runs the connection thread until `close()` or cancellation. Throws when the first connection
    /// attempt fails. It does not react to swift-service-lifecycle graceful shutdown on purpose: the
    /// owner closes it when its own shutdown order says so (see docs/amqp.md).
    public func run() async throws {
        let loop = ConsumerLoop.Setup(
            configuration: configuration, topology: topology, queue: queue, prefetch: prefetch,
            consumerTag: consumerTag ?? "", exclusive: exclusive, logger: logger, mailbox: mailbox,
            continuation: continuation, queueName: queueNameCell, status: status)
        let continuation = continuation, queueNameCell = queueNameCell
        try await mailbox.runThread(
            name: "amqp-consumer", cancelCommand: .close,
            body: { ConsumerLoop(loop).run() },
            leftovers: { _ in
                continuation.finish()
                queueNameCell.end()
            })
    }

    /// Cancels the consumer (basic.cancel), sends acks queued before this call, closes the connection
    /// and finishes `deliveries`. Unacknowledged messages go back to the queue.
    public func close() async {
        _ = mailbox.post(.close)
        await mailbox.waitFinished { _ in
            continuation.finish()
            queueNameCell.end()
        }
    }
}
