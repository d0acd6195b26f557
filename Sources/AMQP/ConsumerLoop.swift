import CRabbitMQ
import Foundation
import Logging
import Resilience

/// The consumer's connection thread: state confined to that thread (not Sendable).
final class ConsumerLoop {
    /// Everything the thread needs, passed across as Sendable values.
    struct Setup: Sendable {
        let configuration: AMQPConfiguration
        let topology: Topology
        let queue: String
        let prefetch: UInt16
        let consumerTag: String
        let exclusive: Bool
        let logger: Logger
        let mailbox: Mailbox<ConsumerCommand>
        let continuation: AsyncThrowingStream<[Delivery], any Error>.Continuation
        let queueName: QueueNameCell
        let status: ConnectionStatus
    }

    private let setup: Setup
    private var logger: Logger { setup.logger }
    /// Incremented for every channel that consumes; stamped into delivery tags.
    private var generation: UInt16 = 0
    private var closing = false
    private var activeConsumerTag = ""
    private var batch: [Delivery] = []
    /// Most deliveries repeat the exchange and routing key of the previous one: reuse those Strings.
    private var exchangeNames = CDecoding.StringCache()
    private var routingKeys = CDecoding.StringCache()

    init(_ setup: Setup) {
        self.setup = setup
    }

    func run() -> Result<Void, AMQPError> {
        var attempt = 0
        var everConnected = false
        var lastNode = 0
        var startupRetries = 0
        defer {
            setup.status.disconnected()
            setup.queueName.end()
        }
        while true {
            if closing {
                setup.continuation.finish()
                return .success(())
            }
            var connection: RabbitConnection? = nil
            do {
                let c = try RabbitConnection.connect(setup.configuration, role: "consumer", firstNode: lastNode)
                connection = c
                lastNode = c.node
                let serverNamed = try c.declare(setup.topology) { logger.warning("\($0)") }
                let queue = setup.queue.isEmpty ? (serverNamed ?? "") : setup.queue
                try startConsuming(c, queue: queue)
                if everConnected {
                    logger.info("AMQP consumer reconnected", metadata: ["queue": "\(queue)", "node": "\(setup.configuration.nodes[c.node])"])
                } else {
                    logger.info("AMQP consumer consuming", metadata: ["queue": "\(queue)", "node": "\(setup.configuration.nodes[c.node])"])
                }
                setup.status.connected(reconnect: everConnected)
                everConnected = true
                attempt = 0
                setup.queueName.set(queue)
                try session(c, queue: queue)
                setup.continuation.finish()
                return .success(())
            } catch {
                setup.status.disconnected()
                flushBatch()
                connection?.destroy()
                if !everConnected, !closing, error.isTransientBrokerFailure, startupRetries < AMQPConfiguration.startupRetries {
                    // The broker failed for a cause of its own (a node stopping, a quorum queue still starting):
                    // try again, from the next node, instead of failing the start.
                    startupRetries += 1
                    lastNode = (lastNode + 1) % setup.configuration.nodes.count
                    let delay = setup.configuration.reconnectBackoff.delay(attempt: attempt)
                    attempt += 1
                    logger.warning("AMQP consumer could not connect; the broker failed transiently, retrying", metadata: ["error": "\(error)", "delay": "\(delay)"])
                    waitWhileDisconnected(delay)
                    continue
                }
                if !everConnected {
                    logger.error("AMQP consumer could not connect", metadata: ["error": "\(error)"])
                    setup.continuation.finish(throwing: error)
                    return .failure(error)
                }
                if closing {
                    setup.continuation.finish()
                    return .success(())
                }
                let delay = setup.configuration.reconnectBackoff.delay(attempt: attempt)
                attempt += 1
                logger.warning("AMQP consumer connection lost; reconnecting", metadata: ["error": "\(error)", "delay": "\(delay)"])
                waitWhileDisconnected(delay)
            }
        }
    }

    /// basic.qos + basic.consume on the connection's channel; starts a new generation.
    private func startConsuming(_ c: RabbitConnection, queue: String) throws(AMQPError) {
        amqp_basic_qos(c.state, c.channel, 0, setup.prefetch, 0)
        try c.checkRPC("basic.qos")
        let ok = amqp_basic_consume(
            c.state, c.channel, c.arena.bytes(queue), c.arena.bytes(setup.consumerTag), 0, 0, setup.exclusive ? 1 : 0,
            amqp_empty_table)
        c.arena.reset()
        try c.checkRPC("basic.consume '\(queue)'")
        if let ok { activeConsumerTag = CDecoding.string(ok.pointee.consumer_tag) }
        generation &+= 1
        if generation == 0 { generation = 1 }
    }

    private func session(_ c: RabbitConnection, queue: String) throws(AMQPError) {
        while true {
            for command in setup.mailbox.take() {
                switch command {
                case .ack(let tag, let multiple):
                    guard let t = current(tag, "ack") else { continue }
                    try check(amqp_basic_ack(c.state, c.channel, t, multiple ? 1 : 0), "basic.ack")
                case .nack(let tag, let multiple, let requeue):
                    guard let t = current(tag, "nack") else { continue }
                    try check(amqp_basic_nack(c.state, c.channel, t, multiple ? 1 : 0, requeue ? 1 : 0), "basic.nack")
                case .reject(let tag, let requeue):
                    guard let t = current(tag, "reject") else { continue }
                    try check(amqp_basic_reject(c.state, c.channel, t, requeue ? 1 : 0), "basic.reject")
                case .close:
                    closing = true
                }
            }
            if closing {
                // Deliveries that arrive before cancel-ok are queued by rabbitmq-c and dropped here;
                // they are unacked, so the broker requeues them when the channel closes.
                amqp_basic_cancel(c.state, c.channel, c.arena.bytes(activeConsumerTag))
                c.arena.reset()
                c.closeGracefully()
                logger.info("AMQP consumer closed")
                return
            }
            let (read, wake) = c.waitForInput(wakeFD: setup.mailbox.eventFD, timeoutMilliseconds: c.idleTimeoutMilliseconds)
            if wake { setup.mailbox.clearWakeup() }
            if read { try readDeliveries(c, queue: queue) }
        }
    }

    /// The broker tag for a stamped tag of the current generation; nil (and logged) for a stale one.
    private func current(_ tag: UInt64, _ what: String) -> UInt64? {
        let gen = UInt16(truncatingIfNeeded: tag >> 48)
        guard gen == generation else {
            logger.debug("AMQP consumer dropped a stale \(what) (generation \(gen), current \(generation))")
            return nil
        }
        return tag & Delivery.brokerTagMask
    }

    private func check(_ status: Int32, _ context: String) throws(AMQPError) {
        guard status == AMQP_STATUS_OK.rawValue else { throw RabbitConnection.error(status: status, context: context) }
    }

    private func flushBatch() {
        guard !batch.isEmpty else { return }
        setup.continuation.yield(batch)
        batch = []
    }

    /// Reads every delivery available without blocking (this also services heartbeats) and yields
    /// them as one batch.
    private func readDeliveries(_ c: RabbitConnection, queue: String) throws(AMQPError) {
        defer { flushBatch() }
        var zero = timeval(tv_sec: 0, tv_usec: 0)
        while true {
            amqp_maybe_release_buffers(c.state)
            var envelope = amqp_envelope_t()
            let reply = amqp_consume_message(c.state, &envelope, &zero, 0)
            if reply.reply_type == AMQP_RESPONSE_NORMAL {
                batch.append(
                    Delivery(
                        deliveryTag: Delivery.stamp(envelope.delivery_tag, generation: generation),
                        redelivered: envelope.redelivered != 0,
                        exchange: exchangeNames.string(envelope.exchange),
                        routingKey: routingKeys.string(envelope.routing_key),
                        body: CDecoding.bytes(envelope.message.body),
                        properties: CDecoding.properties(envelope.message.properties)))
                amqp_destroy_envelope(&envelope)
                continue
            }
            guard reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION else {
                throw RabbitConnection.error(reply, context: "basic.consume")
            }
            if reply.library_error == AMQP_STATUS_TIMEOUT.rawValue { return }
            guard reply.library_error == AMQP_STATUS_UNEXPECTED_STATE.rawValue else {
                rejectUndecodable(c, envelope, reply.library_error)
                throw RabbitConnection.error(reply, context: "reading deliveries")
            }
            // Not a basic.deliver: read that frame and dispatch it.
            var frame = amqp_frame_t()
            let status = amqp_simple_wait_frame_noblock(c.state, &frame, &zero)
            if status == AMQP_STATUS_TIMEOUT.rawValue { return }
            try check(status, "reading a frame")
            guard frame.frame_type == UInt8(AMQP_FRAME_METHOD) else { continue }
            let method = frame.payload.method
            switch method.id {
            case AMQP_CHANNEL_CLOSE_METHOD:
                let close = method.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
                let text = CDecoding.string(close.reply_text)
                c.sendChannelCloseOk()
                flushBatch()
                logger.warning("AMQP consumer channel closed by the broker; reopening", metadata: ["code": "\(close.reply_code)", "text": "\(text)"])
                try c.openChannel()
                try startConsuming(c, queue: queue)
            case AMQP_CONNECTION_CLOSE_METHOD:
                let close = method.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
                let text = CDecoding.string(close.reply_text)
                c.sendConnectionCloseOk()
                throw AMQPError(.connectionClosed, "broker closed the connection: \(close.reply_code) \(text)", brokerReplyCode: close.reply_code)
            case AMQP_BASIC_CANCEL_METHOD:
                throw AMQPError(.connectionClosed, "broker cancelled the consumer (queue '\(queue)' deleted?)")
            default:
                logger.debug("AMQP consumer ignored method 0x\(String(method.id, radix: 16))")
            }
        }
    }

    /// A delivery whose properties rabbitmq-c cannot decode (RabbitMQ passes on a header table with
    /// an empty field name, which rabbitmq-c 0.11 refuses) leaves the connection unreadable, and the
    /// broker would hand the message to every new connection first: one such message blocked the
    /// queue for good. Its delivery tag is known (basic.deliver was read), so it is rejected without
    /// requeue, to the queue's dead-letter exchange (the broker adds `x-death`; no `x-golem-error`,
    /// since its headers cannot be read), before the connection is dropped.
    private func rejectUndecodable(_ c: RabbitConnection, _ envelope: amqp_envelope_t, _ status: Int32) {
        guard envelope.delivery_tag != 0,
              status == AMQP_STATUS_INVALID_PARAMETER.rawValue || status == AMQP_STATUS_BAD_AMQP_DATA.rawValue
        else { return }
        let sent = amqp_basic_reject(c.state, c.channel, envelope.delivery_tag, 0)
        logger.error(
            "AMQP consumer: a delivery's properties cannot be decoded; rejected to the dead-letter exchange",
            metadata: ["error": "\(String(cString: amqp_error_string2(status)))", "sent": "\(sent == AMQP_STATUS_OK.rawValue)"])
    }

    /// Sleeps `delay` between reconnect attempts. Acks for the lost channel are dropped (stale).
    private func waitWhileDisconnected(_ delay: Duration) {
        let deadline = ContinuousClock.now + delay
        while !closing {
            for command in setup.mailbox.take() {
                if case .close = command { closing = true }
            }
            let now = ContinuousClock.now
            if closing || now >= deadline { return }
            let remaining = min(deadline - now, .seconds(1))
            var fd = pollfd(fd: setup.mailbox.eventFD, events: Int16(POLLIN), revents: 0)
            if poll(&fd, 1, Int32(clamping: max(1, remaining.wholeMilliseconds))) > 0 { setup.mailbox.clearWakeup() }
        }
    }
}
