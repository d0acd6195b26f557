import AMQP

/// The names of contract v1's topology, all derived from one prefix (default `golem`).
public struct ContractNames: Sendable, Hashable {
    public let prefix: String

    public init(prefix: String = "golem") {
        self.prefix = prefix
    }

    /// Direct exchange clients publish job requests to, with routing key ``submitRoutingKey``.
    public var jobsExchange: String { "\(prefix).jobs" }
    public var submitRoutingKey: String { "submit" }
    /// Quorum queue the bridges consume requests from.
    public var submitQueue: String { "\(prefix).jobs.submit" }
    /// Topic exchange of lifecycle events, routing key `job.<jobId>.<event>`.
    public var eventsExchange: String { "\(prefix).events" }
    /// Topic exchange of cancel and status requests.
    public var controlExchange: String { "\(prefix).control" }
    /// Fanout exchange and queue of requests that could not be accepted.
    public var deadExchange: String { "\(prefix).jobs.dead" }
    public var deadQueue: String { "\(prefix).jobs.dead" }
    /// Shared queue for status requests: one bridge answers each, from the (shared) journal.
    public var statusQueue: String { "\(prefix).control.status" }

    /// This bridge's own queue for cancels: every bridge hears every cancel, because only the
    /// bridge that runs a job can stop it, and every bridge must remember early cancels.
    public func cancelQueue(instance: String) -> String { "\(prefix).control.cancel.\(instance)" }

    public func eventRoutingKey(jobId: String, event: String) -> String { "job.\(jobId).\(event)" }

    /// The durable topology of the contract, declared idempotently on every (re)connect.
    public var topology: Topology {
        Topology(
            exchanges: [
                ExchangeDeclaration(name: jobsExchange, type: "direct", durable: true),
                ExchangeDeclaration(name: eventsExchange, type: "topic", durable: true),
                ExchangeDeclaration(name: controlExchange, type: "topic", durable: true),
                ExchangeDeclaration(name: deadExchange, type: "fanout", durable: true),
            ],
            queues: [
                QueueDeclaration(
                    name: submitQueue, durable: true, type: .quorum,
                    arguments: ["x-dead-letter-exchange": .string(deadExchange)]
                ),
                // Quorum queues, like the submit queue: a classic durable queue lives on one node, and
                // while that node is down every declare of it fails (404 "home node ... is down"), so
                // no bridge could reconnect anywhere (tests/e2e/test_cluster.py found it). A classic
                // queue of the same name from an older bridge is kept (`acceptsExistingType`).
                QueueDeclaration(name: deadQueue, durable: true, type: .quorum, acceptsExistingType: true),
                // A status request nobody answered within a minute has a client that gave up.
                QueueDeclaration(
                    name: statusQueue, durable: true, type: .quorum, arguments: ["x-message-ttl": .int32(60_000)],
                    acceptsExistingType: true),
            ],
            bindings: [
                Binding(exchange: jobsExchange, queue: submitQueue, routingKey: submitRoutingKey),
                Binding(exchange: deadExchange, queue: deadQueue, routingKey: ""),
                Binding(exchange: controlExchange, queue: statusQueue, routingKey: "job.*.status"),
            ]
        )
    }

    /// The contract topology plus this bridge's exclusive cancel queue.
    public func controlTopology(instance: String) -> Topology {
        var topology = self.topology
        let queue = cancelQueue(instance: instance)
        topology.queues.append(QueueDeclaration(name: queue, durable: false, exclusive: true, autoDelete: true))
        topology.bindings.append(Binding(exchange: controlExchange, queue: queue, routingKey: "job.*.cancel"))
        return topology
    }
}
