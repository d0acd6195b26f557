import Logging

/// Publishes with publisher confirms over its own connection, owned by one dedicated OS thread.
///
/// Call `run()` (it returns after `close()` or when its task is cancelled) and `publish` from any task.
/// `publish` returns only after the broker confirmed the message and throws otherwise (nack, return of
/// a mandatory message, channel error, connection loss, close): a message is never silently lost,
/// though a publish that throws `connectionClosed` may still have reached the broker (at-least-once).
///
/// Publishes issued while the connection is down wait for the reconnect and fail with `timeout` if
/// they could not be sent within `rpcTimeout`. The topology is declared on every (re)connect. A
/// channel error (e.g. 404 for a missing exchange) fails every publish in flight on that channel,
/// then the channel is reopened; the connection is kept.
///
/// The first connection attempt is not retried: `run()` throws its error (a misconfiguration should
/// stop the service at start-up). After one successful connect, losses are retried forever with
/// `configuration.reconnectBackoff`.
public final class AMQPPublisher: Sendable {
    public let configuration: AMQPConfiguration
    public let topology: Topology
    let logger: Logger
    let mailbox = Mailbox<PublisherCommand>()
    let status: ConnectionStatus

    /// - Parameter onReconnect: called on the connection thread each time the publisher is connected
    ///   again after a connection loss (for a metric); keep it short.
    public init(
        configuration: AMQPConfiguration, topology: Topology = .init(), logger: Logger,
        onReconnect: @escaping @Sendable () -> Void = {}
    ) {
        self.configuration = configuration
        self.topology = topology
        var logger = logger
        logger[metadataKey: "amqp.url"] = "\(configuration.redactedURL)"
        logger[metadataKey: "amqp.role"] = "publisher"
        self.logger = logger
        self.status = ConnectionStatus(onReconnect: onReconnect)
    }

    /// Publishes one message and returns when the broker confirmed it.
    ///
    /// Cancelling the calling task does not withdraw the message (it may already be on the wire).
    public func publish(
        exchange: String, routingKey: String, body: [UInt8], properties: MessageProperties = .init(),
        mandatory: Bool = false
    ) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let request = PublishRequest(
                exchange: exchange, routingKey: routingKey, body: body, properties: properties, mandatory: mandatory,
                continuation: .single(continuation))
            if !mailbox.post(.publish(request)) {
                continuation.resume(throwing: AMQPError(.closed, "publisher is closed"))
            }
        }
    }

    /// Publishes the messages in this order and returns when the broker confirmed (or refused) every
    /// one: each result as ``publish(exchange:routingKey:body:properties:mandatory:)`` would have
    /// thrown or returned. The connection thread is woken once for the batch and the caller once
    /// when all are settled, instead of once per message each way.
    public func publish(_ messages: [OutgoingMessage]) async -> [Result<Void, any Error>] {
        guard !messages.isEmpty else { return [] }
        return await withCheckedContinuation { (continuation: CheckedContinuation<[Result<Void, any Error>], Never>) in
            let batch = PublishBatch(count: messages.count, continuation: continuation)
            let commands = messages.enumerated().map { index, message in
                PublisherCommand.publish(PublishRequest(
                    exchange: message.exchange, routingKey: message.routingKey, body: message.body,
                    properties: message.properties, mandatory: message.mandatory, continuation: .batch(batch, index: index)))
            }
            if !mailbox.post(contentsOf: commands) {
                for command in commands { command.fail(AMQPError(.closed, "publisher is closed")) }
            }
        }
    }

    /// Declares exchanges, queues and bindings once, through the publisher connection.
    public func declare(_ topology: Topology) async throws {
        try await perform(.declare(topology))
    }

    /// Deletes a queue (tests, clean-up tools).
    public func deleteQueue(_ name: String) async throws {
        try await perform(.deleteQueue(name))
    }

    /// Deletes an exchange (tests, clean-up tools).
    public func deleteExchange(_ name: String) async throws {
        try await perform(.deleteExchange(name))
    }

    private func perform(_ operation: TopologyOperation) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            if !mailbox.post(.topology(operation, continuation)) {
                continuation.resume(throwing: AMQPError(.closed, "publisher is closed"))
            }
        }
    }

    /// Runs the connection thread until `close()` or cancellation. Throws when the first connection
    /// attempt fails. It does not react to swift-service-lifecycle graceful shutdown on purpose: the
    /// owner closes it when its own shutdown order says so (see docs/amqp.md).
    public func run() async throws {
        let configuration = configuration, topology = topology, logger = logger, mailbox = mailbox, status = status
        try await mailbox.runThread(
            name: "amqp-publisher", cancelCommand: .close,
            body: {
                PublisherLoop(
                    configuration: configuration, topology: topology, logger: logger, mailbox: mailbox, status: status
                ).run()
            },
            leftovers: { commands in
                for command in commands { command.fail(AMQPError(.closed, "publisher stopped")) }
            })
    }

    /// Stops accepting publishes, waits (at most `rpcTimeout`, capped at 10 s) for the confirms of
    /// those in flight, closes the connection and returns when the thread has ended.
    public func close() async {
        _ = mailbox.post(.close)
        await mailbox.waitFinished { commands in
            for command in commands { command.fail(AMQPError(.closed, "publisher closed before it ran")) }
        }
    }
}
