import CRabbitMQ
import Foundation
import Logging
import Resilience

/// The publisher's connection thread: state confined to that thread (not Sendable).
final class PublisherLoop {
    /// Kept small (the window is memmoved as confirms settle): the message itself is only kept for
    /// mandatory publishes, to match a basic.return.
    private struct InFlight {
        let tag: UInt64
        let continuation: CheckedContinuation<Void, any Error>
        let mandatory: MandatoryMessage?
    }

    /// What identifies a mandatory message in a basic.return; `returned` is set when one arrived.
    private final class MandatoryMessage {
        let exchange: String
        let routingKey: String
        let body: [UInt8]
        var returned: AMQPError?

        init(_ request: PublishRequest) {
            exchange = request.exchange
            routingKey = request.routingKey
            body = request.body
        }
    }

    /// A publish held while disconnected, and since when.
    private struct Held {
        let request: PublishRequest
        let since: ContinuousClock.Instant
    }

    private let configuration: AMQPConfiguration
    private let topology: Topology
    private let logger: Logger
    private let mailbox: Mailbox<PublisherCommand>
    private let status: ConnectionStatus

    /// Publishes waiting for a connection (they fail after `rpcTimeout` of waiting).
    private var held: [Held] = []
    /// Published, not yet confirmed; ascending delivery tags.
    private var inFlight: [InFlight] = []
    private var nextTag: UInt64 = 1
    private var closing = false
    /// A nack arrived: the channel is reopened before the next publish (see ``resetChannelAfterNack(_:)``).
    private var nackedOnChannel = false
    private var closeDeadline: ContinuousClock.Instant = .now

    init(
        configuration: AMQPConfiguration, topology: Topology, logger: Logger, mailbox: Mailbox<PublisherCommand>,
        status: ConnectionStatus
    ) {
        self.configuration = configuration
        self.topology = topology
        self.logger = logger
        self.mailbox = mailbox
        self.status = status
        inFlight.reserveCapacity(1024)
    }

    func run() -> Result<Void, AMQPError> {
        var attempt = 0
        var everConnected = false
        var lastNode = 0
        var startupRetries = 0
        defer { status.disconnected() }
        while true {
            if closing {
                failHeld(AMQPError(.closed, "publisher closed"))
                return .success(())
            }
            var connection: RabbitConnection? = nil
            do {
                let c = try RabbitConnection.connect(configuration, role: "publisher", firstNode: lastNode)
                connection = c
                lastNode = c.node
                try c.declare(topology) { logger.warning("\($0)") }
                try enableConfirms(c)
                let node: Logger.Metadata = ["node": "\(configuration.nodes[c.node])"]
                if everConnected { logger.info("AMQP publisher reconnected", metadata: node) } else { logger.info("AMQP publisher connected", metadata: node) }
                status.connected(reconnect: everConnected)
                everConnected = true
                attempt = 0
                try session(c)
                return .success(())
            } catch {
                status.disconnected()
                connection?.destroy()
                failInFlight(AMQPError(error.kind == .timeout ? .connectionClosed : error.kind, "connection lost with the message in flight: \(error.message)"))
                if !everConnected, !closing, error.isTransientBrokerFailure, startupRetries < AMQPConfiguration.startupRetries {
                    // As the consumer does: a broker that failed for a cause of its own is tried again.
                    startupRetries += 1
                    lastNode = (lastNode + 1) % configuration.nodes.count
                    let delay = configuration.reconnectBackoff.delay(attempt: attempt)
                    attempt += 1
                    logger.warning("AMQP publisher could not connect; the broker failed transiently, retrying", metadata: ["error": "\(error)", "delay": "\(delay)"])
                    waitWhileDisconnected(delay)
                    continue
                }
                if !everConnected {
                    logger.error("AMQP publisher could not connect", metadata: ["error": "\(error)"])
                    failHeld(error)
                    for command in mailbox.take() { command.fail(error) }
                    return .failure(error)
                }
                if closing {
                    failHeld(AMQPError(.closed, "publisher closed"))
                    return .success(())
                }
                let delay = configuration.reconnectBackoff.delay(attempt: attempt)
                attempt += 1
                logger.warning("AMQP publisher connection lost; reconnecting", metadata: ["error": "\(error)", "delay": "\(delay)"])
                waitWhileDisconnected(delay)
            }
        }
    }

    private func enableConfirms(_ c: RabbitConnection) throws(AMQPError) {
        amqp_confirm_select(c.state, c.channel)
        try c.checkRPC("confirm.select")
        nextTag = 1
    }

    // MARK: - connected

    private func session(_ c: RabbitConnection) throws(AMQPError) {
        while true {
            if closing {
                if inFlight.isEmpty || ContinuousClock.now >= closeDeadline {
                    failInFlight(AMQPError(.closed, "publisher closed before the broker confirmed the message"))
                    c.closeGracefully()
                    logger.info("AMQP publisher closed")
                    return
                }
            }
            if nackedOnChannel { try resetChannelAfterNack(c) }
            if !held.isEmpty {
                let waiting = held
                held.removeAll()
                for entry in waiting { try publish(entry.request, on: c) }
            }
            for command in mailbox.take() {
                switch command {
                case .publish(let request):
                    if closing {
                        request.continuation.resume(throwing: AMQPError(.closed, "publisher is closing"))
                    } else {
                        try publish(request, on: c)
                    }
                case .topology(let operation, let continuation):
                    try perform(operation, continuation, on: c)
                case .close:
                    if !closing {
                        closing = true
                        closeDeadline = .now + min(configuration.rpcTimeout, .seconds(10))
                    }
                }
            }
            if closing && inFlight.isEmpty { continue }
            let timeout: Int32 = closing ? 50 : c.idleTimeoutMilliseconds
            let (read, wake) = c.waitForInput(wakeFD: mailbox.eventFD, timeoutMilliseconds: timeout)
            if wake { mailbox.clearWakeup() }
            if read { try readFrames(c) }
        }
    }

    private func publish(_ request: PublishRequest, on c: RabbitConnection) throws(AMQPError) {
        let arena = c.arena
        var properties = arena.properties(request.properties)
        let exchange = arena.bytes(request.exchange)
        let routingKey = arena.bytes(request.routingKey)
        let status = request.body.withUnsafeBytes { raw in
            amqp_basic_publish(
                c.state, c.channel, exchange, routingKey, request.mandatory ? 1 : 0, 0, &properties,
                amqp_bytes_t(len: raw.count, bytes: UnsafeMutableRawPointer(mutating: raw.baseAddress)))
        }
        arena.reset()
        guard status == AMQP_STATUS_OK.rawValue else {
            let error = RabbitConnection.error(status: status, context: "basic.publish to '\(request.exchange)'")
            request.continuation.resume(throwing: AMQPError(.connectionClosed, error.message))
            throw error
        }
        inFlight.append(
            InFlight(tag: nextTag, continuation: request.continuation, mandatory: request.mandatory ? MandatoryMessage(request) : nil))
        nextTag += 1
    }

    private func perform(
        _ operation: TopologyOperation, _ continuation: CheckedContinuation<Void, any Error>, on c: RabbitConnection
    ) throws(AMQPError) {
        do {
            switch operation {
            case .declare(let topology): try c.declare(topology) { logger.warning("\($0)") }
            case .deleteQueue(let name): try c.deleteQueue(name)
            case .deleteExchange(let name): try c.deleteExchange(name)
            }
            continuation.resume()
        } catch {
            continuation.resume(throwing: error)
            guard case .channelClosed = error.kind else { throw error }
            // Confirms that arrived during the RPC were queued by rabbitmq-c; settle them first.
            try readFrames(c)
            try reopenChannel(c, after: error)
        }
    }

    /// Fails what was in flight on the closed channel (its confirms will never come) and reopens it.
    private func reopenChannel(_ c: RabbitConnection, after error: AMQPError) throws(AMQPError) {
        failInFlight(error)
        logger.warning("AMQP publisher channel closed by the broker; reopening", metadata: ["error": "\(error)"])
        try c.openChannel()
        try enableConfirms(c)
    }

    /// Closes and reopens the channel after a nack. Measured on RabbitMQ 3.10.8 (tests/e2e/test_cluster.py):
    /// a channel that published while a quorum queue's leader node stopped got every later publish to
    /// that queue nacked, for minutes, while a new channel's were confirmed at once. What is still in
    /// flight fails (the caller publishes it again: at least once); confirms of the old channel that
    /// arrived before close-ok are dropped, so none settles a publish of the new one.
    private func resetChannelAfterNack(_ c: RabbitConnection) throws(AMQPError) {
        nackedOnChannel = false
        failInFlight(AMQPError(.nacked, "publishing channel reopened after a nack; not confirmed"))
        let closed = amqp_channel_close(c.state, c.channel, AMQP_REPLY_SUCCESS)
        guard closed.reply_type == AMQP_RESPONSE_NORMAL else {
            throw RabbitConnection.error(closed, context: "channel.close after a nack")
        }
        var zero = timeval(tv_sec: 0, tv_usec: 0)
        while amqp_frames_enqueued(c.state) != 0 {
            var frame = amqp_frame_t()
            guard amqp_simple_wait_frame_noblock(c.state, &frame, &zero) == AMQP_STATUS_OK.rawValue else { break }
        }
        logger.warning("AMQP publisher reopened its channel after the broker nacked a message")
        try c.openChannel()
        try enableConfirms(c)
    }

    /// Reads every frame available without blocking (this also services heartbeats).
    private func readFrames(_ c: RabbitConnection) throws(AMQPError) {
        var zero = timeval(tv_sec: 0, tv_usec: 0)
        while true {
            amqp_maybe_release_buffers(c.state)
            var frame = amqp_frame_t()
            let status = amqp_simple_wait_frame_noblock(c.state, &frame, &zero)
            if status == AMQP_STATUS_TIMEOUT.rawValue { return }
            guard status == AMQP_STATUS_OK.rawValue else {
                throw RabbitConnection.error(status: status, context: "reading confirms")
            }
            guard frame.frame_type == UInt8(AMQP_FRAME_METHOD) else { continue }
            let method = frame.payload.method
            switch method.id {
            case AMQP_BASIC_ACK_METHOD:
                let ack = method.decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
                settle(ack.delivery_tag, multiple: ack.multiple != 0, error: nil)
            case AMQP_BASIC_NACK_METHOD:
                let nack = method.decoded.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
                settle(nack.delivery_tag, multiple: nack.multiple != 0, error: AMQPError(.nacked, "broker nacked the message"))
                nackedOnChannel = true
            case AMQP_BASIC_RETURN_METHOD:
                let r = method.decoded.assumingMemoryBound(to: amqp_basic_return_t.self).pointee
                let code = r.reply_code
                let text = CDecoding.string(r.reply_text)
                let exchange = CDecoding.string(r.exchange)
                let routingKey = CDecoding.string(r.routing_key)
                var message = amqp_message_t()
                let reply = amqp_read_message(c.state, frame.channel, &message, 0)
                guard reply.reply_type == AMQP_RESPONSE_NORMAL else {
                    throw RabbitConnection.error(reply, context: "reading basic.return")
                }
                let body = CDecoding.bytes(message.body)
                amqp_destroy_message(&message)
                markReturned(exchange: exchange, routingKey: routingKey, body: body, code: code, text: text)
            case AMQP_CHANNEL_CLOSE_METHOD:
                let close = method.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
                let error = AMQPError(
                    .channelClosed(replyCode: close.reply_code, replyText: CDecoding.string(close.reply_text)),
                    "broker closed the publishing channel")
                c.sendChannelCloseOk()
                try reopenChannel(c, after: error)
            case AMQP_CONNECTION_CLOSE_METHOD:
                let close = method.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
                let text = CDecoding.string(close.reply_text)
                c.sendConnectionCloseOk()
                throw AMQPError(.connectionClosed, "broker closed the connection: \(close.reply_code) \(text)", brokerReplyCode: close.reply_code)
            default:
                logger.debug("AMQP publisher ignored method 0x\(String(method.id, radix: 16))")
            }
        }
    }

    /// basic.return carries no delivery tag; the broker sends it before the confirm of the same
    /// message, so the oldest unconfirmed mandatory publish with the same exchange, routing key and
    /// body is the returned one.
    private func markReturned(exchange: String, routingKey: String, body: [UInt8], code: UInt16, text: String) {
        let error = AMQPError(
            .returned(replyCode: code, replyText: text),
            "broker returned the mandatory message for exchange '\(exchange)' routing key '\(routingKey)'")
        if let entry = inFlight.first(where: { entry in
            guard let m = entry.mandatory, m.returned == nil else { return false }
            return m.exchange == exchange && m.routingKey == routingKey && m.body == body
        }) {
            entry.mandatory?.returned = error
        } else {
            logger.warning("AMQP publisher got a basic.return for no known message", metadata: ["error": "\(error)"])
        }
    }

    private func settle(_ tag: UInt64, multiple: Bool, error: AMQPError?) {
        func resolve(_ entry: InFlight) {
            if let error = error ?? entry.mandatory?.returned {
                entry.continuation.resume(throwing: error)
            } else {
                entry.continuation.resume()
            }
        }
        if multiple {
            var count = 0
            while count < inFlight.count, inFlight[count].tag <= tag {
                resolve(inFlight[count])
                count += 1
            }
            inFlight.removeFirst(count)
        } else if let i = inFlight.firstIndex(where: { $0.tag == tag }) {
            resolve(inFlight[i])
            inFlight.remove(at: i)
        }
    }

    private func failInFlight(_ error: AMQPError) {
        for entry in inFlight { entry.continuation.resume(throwing: error) }
        inFlight.removeAll(keepingCapacity: true)
    }

    private func failHeld(_ error: AMQPError) {
        for entry in held { entry.request.continuation.resume(throwing: error) }
        held.removeAll()
    }

    // MARK: - disconnected

    /// Sleeps `delay` between reconnect attempts while collecting commands: publishes are held for the
    /// next connection (and fail after `rpcTimeout`), topology operations fail at once.
    private func waitWhileDisconnected(_ delay: Duration) {
        let deadline = ContinuousClock.now + delay
        while !closing {
            for command in mailbox.take() {
                switch command {
                case .publish(let request): held.append(Held(request: request, since: .now))
                case .topology(_, let continuation):
                    continuation.resume(throwing: AMQPError(.connectionClosed, "not connected to the broker (reconnecting)"))
                case .close: closing = true
                }
            }
            let now = ContinuousClock.now
            held.removeAll { entry in
                guard now - entry.since >= configuration.rpcTimeout else { return false }
                entry.request.continuation.resume(throwing: AMQPError(.timeout, "not published: no broker connection for \(configuration.rpcTimeout)"))
                return true
            }
            if closing || now >= deadline { return }
            let remaining = min(deadline - now, .seconds(1))
            var fd = pollfd(fd: mailbox.eventFD, events: Int16(POLLIN), revents: 0)
            if poll(&fd, 1, Int32(clamping: max(1, remaining.wholeMilliseconds))) > 0 { mailbox.clearWakeup() }
        }
    }
}
