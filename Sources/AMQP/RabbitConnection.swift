import CRabbitMQ
import Foundation
import Logging
import Resilience

/// One rabbitmq-c connection with one channel. Deliberately not Sendable: it is created, used and
/// destroyed on one dedicated connection thread, and the compiler rejects any attempt to capture it in
/// a `@Sendable` closure.
final class RabbitConnection {
    let state: amqp_connection_state_t
    let channel: amqp_channel_t = 1
    private(set) var socketFD: Int32 = -1
    /// Scratch memory for outgoing frames; reset after each call.
    let arena = CArena()
    private let configuration: AMQPConfiguration
    private var destroyed = false

    /// The index in `configuration.nodes` of the node this connection reached.
    let node: Int

    private init(state: amqp_connection_state_t, configuration: AMQPConfiguration, node: Int) {
        self.state = state
        self.configuration = configuration
        self.node = node
    }

    deinit {
        if !destroyed { amqp_destroy_connection(state) }
    }

    /// Opens the socket (TLS for amqps), logs in and opens channel 1, on the first node of
    /// `configuration.nodes` that answers, trying them in turn from `firstNode` (the index of the node
    /// that last worked: a loop reconnects there first). ``node`` tells which one it reached. When
    /// none answers, the error names each node's failure.
    static func connect(_ configuration: AMQPConfiguration, role: String, firstNode: Int = 0) throws(AMQPError) -> RabbitConnection {
        let nodes = configuration.nodes
        var failures: [AMQPError] = []
        for offset in 0..<nodes.count {
            let index = (firstNode + offset) % nodes.count
            guard let state = amqp_new_connection() else { throw AMQPError(.connectionFailed, "amqp_new_connection failed") }
            let connection = RabbitConnection(state: state, configuration: configuration, node: index)
            do {
                try connection.open(role: role, node: nodes[index])
                return connection
            } catch {
                connection.destroy()
                // A refused login or vhost is the same on every node of a cluster: no use trying on.
                if error.kind == .authenticationFailed { throw error }
                failures.append(error)
            }
        }
        if failures.count == 1 { throw failures[0] }
        throw AMQPError(
            failures.last?.kind ?? .connectionFailed,
            "no broker node answered: " + failures.map(\.message).joined(separator: "; "))
    }

    private func open(role: String, node: AMQPConfiguration.Node) throws(AMQPError) {
        let c = configuration
        let target = node.description
        let socket: OpaquePointer?
        if c.useTLS {
            socket = amqp_ssl_socket_new(state)
            guard socket != nil else { throw AMQPError(.tlsFailed, "could not create a TLS socket for \(target)") }
            if let ca = c.tls.caCertPath {
                let status = amqp_ssl_socket_set_cacert(socket, ca)
                guard status == AMQP_STATUS_OK.rawValue else {
                    throw AMQPError(.tlsFailed, "could not load CA certificate '\(ca)': \(Self.describe(status))")
                }
            }
            amqp_ssl_socket_set_verify_peer(socket, c.tls.verifyPeer ? 1 : 0)
            amqp_ssl_socket_set_verify_hostname(socket, c.tls.verifyHostname ? 1 : 0)
        } else {
            socket = amqp_tcp_socket_new(state)
            guard socket != nil else { throw AMQPError(.connectionFailed, "could not create a socket for \(target)") }
        }
        var connectTimeout = Self.timeval(c.connectTimeout)
        let status = amqp_socket_open_noblock(socket, node.host, Int32(node.port), &connectTimeout)
        guard status == AMQP_STATUS_OK.rawValue else {
            if status == AMQP_STATUS_TIMEOUT.rawValue {
                throw AMQPError(.connectionFailed, "connecting to \(target) timed out after \(c.connectTimeout)")
            }
            if c.useTLS, Self.isTLSStatus(status) {
                throw AMQPError(.tlsFailed, "TLS handshake with \(target) failed: \(Self.describe(status)) (is it a TLS port?)")
            }
            let cause = errno == 0 || errno == EINPROGRESS ? "" : " (\(String(cString: strerror(errno))))"
            throw AMQPError(.connectionFailed, "could not connect to \(target): \(Self.describe(status))\(cause)")
        }
        socketFD = amqp_get_sockfd(state)
        var rpcTimeout = Self.timeval(c.rpcTimeout)
        _ = amqp_set_rpc_timeout(state, &rpcTimeout)
        // The AMQP handshake (protocol header, start/tune/open) has its own timeout in rabbitmq-c,
        // 12 s by default; a server that accepts TCP and then says nothing must fail within ours.
        var handshakeTimeout = Self.timeval(c.connectTimeout)
        _ = amqp_set_handshake_timeout(state, &handshakeTimeout)

        var properties: [String: FieldValue] = [
            "product": "golem-bridge AMQP (rabbitmq-c)",
            "platform": "Swift",
            // Without consumer_cancel_notify the broker cancels a consumer whose queue was deleted
            // without a word, and the bridge would wait on it for good; with it, `basic.cancel`
            // arrives and the consumer reconnects, declaring its queue again.
            "capabilities": .table(["consumer_cancel_notify": .bool(true), "authentication_failure_close": .bool(true)]),
        ]
        if let name = c.connectionName { properties["connection_name"] = .string(name) }
        let heartbeat = Int32(clamping: c.heartbeat.components.seconds)
        let reply = crmq_login_plain(
            state, arena.cString(c.vhost), Int32(AMQP_DEFAULT_MAX_CHANNELS), Int32(AMQP_DEFAULT_FRAME_SIZE), heartbeat,
            arena.table(properties), arena.cString(c.user), arena.cString(c.password))
        arena.reset()
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            break
        case AMQP_RESPONSE_SERVER_EXCEPTION where reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD:
            let close = reply.reply.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            let text = CDecoding.string(close.reply_text)
            var ok = amqp_connection_close_ok_t(dummy: 0)
            _ = amqp_send_method(state, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok)
            if close.reply_code == 403 {
                throw AMQPError(.authenticationFailed, "authentication failed for user '\(c.user)' on \(target): \(text)")
            }
            throw AMQPError(.connectionFailed, "broker refused the connection to vhost '\(c.vhost)' on \(target): \(close.reply_code) \(text)")
        case AMQP_RESPONSE_LIBRARY_EXCEPTION
        where reply.library_error == AMQP_STATUS_CONNECTION_CLOSED.rawValue || reply.library_error == AMQP_STATUS_SOCKET_CLOSED.rawValue:
            throw AMQPError(.authenticationFailed, "broker closed the connection during login to \(target) (authentication failed for user '\(c.user)' or vhost '\(c.vhost)' not accessible)")
        default:
            throw Self.error(reply, context: "login to \(target)")
        }
        try openChannel()
    }

    func openChannel() throws(AMQPError) {
        amqp_channel_open(state, channel)
        try checkRPC("channel.open")
    }

    /// Throws the last RPC reply as an error. A server channel.close/connection.close has been
    /// answered with close-ok by the time this throws, so the channel can be reopened.
    func checkRPC(_ context: String, channel: amqp_channel_t? = nil) throws(AMQPError) {
        let reply = amqp_get_rpc_reply(state)
        guard reply.reply_type != AMQP_RESPONSE_NORMAL else { return }
        if reply.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION {
            if reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD {
                sendChannelCloseOk(channel: channel ?? self.channel)
            } else if reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD {
                sendConnectionCloseOk()
            }
        }
        throw Self.error(reply, context: context)
    }

    func sendChannelCloseOk(channel: amqp_channel_t? = nil) {
        var ok = amqp_channel_close_ok_t(dummy: 0)
        _ = amqp_send_method(state, channel ?? self.channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok)
    }

    func sendConnectionCloseOk() {
        var ok = amqp_connection_close_ok_t(dummy: 0)
        _ = amqp_send_method(state, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok)
    }

    /// Declares the topology on this connection's channel. Returns the name of the last server-named
    /// queue, if any (bindings with an empty queue name bind that queue). A queue that
    /// ``QueueDeclaration/acceptsExistingType`` and exists with other arguments is kept as it is, and
    /// `warn` is told.
    @discardableResult
    func declare(_ topology: Topology, warn: (String) -> Void = { _ in }) throws(AMQPError) -> String? {
        defer { arena.reset() }
        for e in topology.exchanges {
            amqp_exchange_declare(
                state, channel, arena.bytes(e.name), arena.bytes(e.type), 0, e.durable ? 1 : 0, e.autoDelete ? 1 : 0,
                e.isInternal ? 1 : 0, arena.table(e.arguments))
            try checkRPC("exchange.declare '\(e.name)'")
            arena.reset()
        }
        var serverNamed: String? = nil
        for q in topology.queues {
            if q.acceptsExistingType {
                try declareAcceptingExisting(q, warn: warn)
                continue
            }
            let ok = amqp_queue_declare(
                state, channel, arena.bytes(q.name), 0, q.durable ? 1 : 0, q.exclusive ? 1 : 0, q.autoDelete ? 1 : 0,
                arena.table(q.effectiveArguments))
            try checkRPC("queue.declare '\(q.name)'")
            if q.name.isEmpty, let ok { serverNamed = CDecoding.string(ok.pointee.queue) }
            arena.reset()
        }
        for b in topology.bindings {
            let queue = b.queue.isEmpty ? (serverNamed ?? "") : b.queue
            amqp_queue_bind(state, channel, arena.bytes(queue), arena.bytes(b.exchange), arena.bytes(b.routingKey), arena.table(b.arguments))
            try checkRPC("queue.bind '\(queue)' to '\(b.exchange)' with '\(b.routingKey)'")
            arena.reset()
        }
        amqp_maybe_release_buffers(state)
        return serverNamed
    }

    /// Declares `q` on a side channel, so that a refusal (which closes the channel) leaves this
    /// connection's channel, its confirm mode and its consumer alone; on 406 PRECONDITION_FAILED (the
    /// queue exists with other arguments) checks that it exists (passive) and keeps it.
    private func declareAcceptingExisting(_ q: QueueDeclaration, warn: (String) -> Void) throws(AMQPError) {
        let side = channel + 1
        amqp_channel_open(state, side)
        try checkRPC("channel.open", channel: side)
        arena.reset()
        amqp_queue_declare(
            state, side, arena.bytes(q.name), 0, q.durable ? 1 : 0, q.exclusive ? 1 : 0, q.autoDelete ? 1 : 0,
            arena.table(q.effectiveArguments))
        do {
            try checkRPC("queue.declare '\(q.name)'", channel: side)
        } catch {
            guard case .channelClosed(let code, let text) = error.kind, code == 406 else { throw error }
            arena.reset()
            amqp_channel_open(state, side)
            try checkRPC("channel.open", channel: side)
            amqp_queue_declare(state, side, arena.bytes(q.name), 1, 0, 0, 0, amqp_empty_table)
            try checkRPC("queue.declare '\(q.name)' (passive)", channel: side)
            warn("queue '\(q.name)' exists with other arguments than this version declares (\(text)); using it as it is")
        }
        arena.reset()
        let closed = amqp_channel_close(state, side, AMQP_REPLY_SUCCESS)
        guard closed.reply_type == AMQP_RESPONSE_NORMAL else { throw Self.error(closed, context: "channel.close") }
    }

    func deleteQueue(_ name: String) throws(AMQPError) {
        defer { arena.reset() }
        amqp_queue_delete(state, channel, arena.bytes(name), 0, 0)
        try checkRPC("queue.delete '\(name)'")
    }

    func deleteExchange(_ name: String) throws(AMQPError) {
        defer { arena.reset() }
        amqp_exchange_delete(state, channel, arena.bytes(name), 0)
        try checkRPC("exchange.delete '\(name)'")
    }

    /// True when a read would return a frame without touching the socket.
    var hasBufferedInput: Bool {
        amqp_frames_enqueued(state) != 0 || amqp_data_in_buffer(state) != 0
    }

    /// When the socket was last read; see `shouldRead`.
    private var lastRead = ContinuousClock.now

    /// Waits in poll() on the socket and the mailbox eventfd (returns at once when rabbitmq-c already
    /// buffered input). `read` says whether to read the socket now: it had data, the poll timed out
    /// (a zero-timeout read then services heartbeats), or no read happened for half a heartbeat.
    /// A wake-up by the eventfd alone skips the read (saves a recv and a poll per command burst).
    func waitForInput(wakeFD: Int32, timeoutMilliseconds: Int32) -> (read: Bool, wake: Bool) {
        amqp_maybe_release_buffers(state)
        if hasBufferedInput { return markRead(wake: false) }
        var fds = (
            pollfd(fd: socketFD, events: Int16(POLLIN), revents: 0),
            pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)
        )
        let n = withUnsafeMutableBytes(of: &fds) { raw in
            poll(raw.baseAddress!.assumingMemoryBound(to: pollfd.self), 2, timeoutMilliseconds)
        }
        if n <= 0 { return markRead(wake: false) }
        let wake = fds.1.revents != 0
        if fds.0.revents != 0 { return markRead(wake: wake) }
        if ContinuousClock.now - lastRead >= .milliseconds(Int64(idleTimeoutMilliseconds)) { return markRead(wake: wake) }
        return (false, wake)
    }

    private func markRead(wake: Bool) -> (read: Bool, wake: Bool) {
        lastRead = .now
        return (true, wake)
    }

    /// The poll timeout that keeps heartbeats serviced: half the heartbeat (1 s when heartbeats are off).
    var idleTimeoutMilliseconds: Int32 {
        let hb = configuration.heartbeat.wholeMilliseconds
        return Int32(clamping: hb > 0 ? Swift.max(hb / 2, 100) : 1000)
    }

    /// Best-effort graceful close (channel.close, connection.close) with a short RPC bound, then destroy.
    func closeGracefully(timeout: Duration = .seconds(2)) {
        guard !destroyed else { return }
        var tv = Self.timeval(timeout)
        _ = amqp_set_rpc_timeout(state, &tv)
        _ = amqp_channel_close(state, channel, AMQP_REPLY_SUCCESS)
        _ = amqp_connection_close(state, AMQP_REPLY_SUCCESS)
        destroy()
    }

    /// Closes the socket and frees the connection without a handshake.
    func destroy() {
        guard !destroyed else { return }
        destroyed = true
        amqp_destroy_connection(state)
    }

    // MARK: - errors

    static func describe(_ status: Int32) -> String {
        String(cString: amqp_error_string2(status))
    }

    static func isTLSStatus(_ status: Int32) -> Bool {
        [AMQP_STATUS_SSL_ERROR, AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED, AMQP_STATUS_SSL_PEER_VERIFY_FAILED,
         AMQP_STATUS_SSL_CONNECTION_FAILED].contains { $0.rawValue == status }
    }

    /// Maps a library status code from a read or write to an error.
    static func error(status: Int32, context: String) -> AMQPError {
        if status == AMQP_STATUS_TIMEOUT.rawValue { return AMQPError(.timeout, "\(context): timed out") }
        return AMQPError(.connectionClosed, "\(context): \(describe(status))")
    }

    static func error(_ reply: amqp_rpc_reply_t, context: String) -> AMQPError {
        switch reply.reply_type {
        case AMQP_RESPONSE_NONE:
            return AMQPError(.protocolError, "\(context): no RPC reply")
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            if reply.library_error == AMQP_STATUS_TIMEOUT.rawValue {
                return AMQPError(.timeout, "\(context): no reply within the RPC timeout (connection dropped)")
            }
            return AMQPError(.connectionClosed, "\(context): \(describe(reply.library_error))")
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            if reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD {
                let close = reply.reply.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
                let text = CDecoding.string(close.reply_text)
                return AMQPError(.channelClosed(replyCode: close.reply_code, replyText: text), "\(context): broker closed the channel")
            }
            if reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD {
                let close = reply.reply.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
                return AMQPError(
                    .connectionClosed, "\(context): broker closed the connection: \(close.reply_code) \(CDecoding.string(close.reply_text))",
                    brokerReplyCode: close.reply_code)
            }
            return AMQPError(.protocolError, "\(context): unexpected server method 0x\(String(reply.reply.id, radix: 16))")
        default:
            return AMQPError(.protocolError, "\(context): unknown reply type")
        }
    }

    static func timeval(_ d: Duration) -> Glibc.timeval {
        let c = d.components
        return Glibc.timeval(tv_sec: Int(c.seconds), tv_usec: Int(c.attoseconds / 1_000_000_000_000))
    }
}
