import AMQP
import Foundation
import Testing

extension BrokerTests {
    @Suite("Faults")
    struct FaultTests {
        @Test func brokerNackThrowsNacked() async throws {
            let queue = TestSupport.unique("full")
            let topology = Topology(queues: [
                QueueDeclaration(name: queue, durable: false, arguments: ["x-max-length": .int32(1), "x-overflow": "reject-publish"])
            ])
            try await TestSupport.withPublisher(topology: topology) { publisher in
                try await publisher.publish(exchange: "", routingKey: queue, body: [1])
                do {
                    try await publisher.publish(exchange: "", routingKey: queue, body: [2])
                    Issue.record("expected nacked")
                } catch let error as AMQPError {
                    #expect(error.kind == .nacked)
                    #expect(!error.isConnectionFatal)
                }
            }
            await TestSupport.cleanUp(queues: [queue])
        }

        @Test func consumerChannelErrorReopensTheChannelOnTheSameConnection() async throws {
            let queue = TestSupport.unique("chanerr")
            let name = TestSupport.unique("conn")
            let topology = Topology(queues: [QueueDeclaration(name: queue, durable: false)])
            try await TestSupport.withPublisher(topology: topology) { publisher in
                try await TestSupport.withConsumer(TestSupport.configuration(name: name), topology: topology, queue: queue) { consumer in
                    let inbox = DeliveryInbox(consumer)
                    try await publisher.publish(exchange: "", routingKey: queue, body: [1])
                    let first = await inbox.take(1)
                    #expect(first.count == 1)
                    // Acking the same tag twice: 406 PRECONDITION_FAILED (unknown delivery tag) closes the channel.
                    consumer.ack(first[0].deliveryTag)
                    consumer.ack(first[0].deliveryTag)
                    try await Task.sleep(for: .milliseconds(300))
                    try await publisher.publish(exchange: "", routingKey: queue, body: [2])
                    let second = await inbox.take(1)
                    #expect(second.map(\.body) == [[2]])
                    #expect(second.first?.generation == first[0].generation &+ 1)
                    if let d = second.first { consumer.ack(d.deliveryTag) }
                    // Still one connection with this name: the channel was reopened, not the connection.
                    let listing = try await TestSupport.shell(["rabbitmqctl", "-q", "list_connections", "client_properties"])
                    #expect(listing.split(separator: "\n").filter { $0.contains("\"\(name)\"") }.count == 1)
                }
            }
            await TestSupport.cleanUp(queues: [queue])
        }

        /// An operator deletes the queue under a running consumer: the broker tells it (basic.cancel,
        /// which it sends only to clients that say `consumer_cancel_notify`), and the consumer
        /// reconnects, declares the queue again and gets what is published to it next.
        @Test func consumerWhoseQueueIsDeletedDeclaresItAgainAndGoesOn() async throws {
            let queue = TestSupport.unique("deleted")
            let topology = Topology(queues: [QueueDeclaration(name: queue, durable: false)])
            try await TestSupport.withPublisher(topology: topology) { publisher in
                try await TestSupport.withConsumer(topology: topology, queue: queue) { consumer in
                    let inbox = DeliveryInbox(consumer)
                    try await publisher.publish(exchange: "", routingKey: queue, body: [1])
                    let first = await inbox.take(1)
                    if let d = first.first { consumer.ack(d.deliveryTag) }
                    _ = try await TestSupport.shell(["rabbitmqctl", "-q", "delete_queue", queue])
                    // Published until the queue exists again (a publish to a missing queue is dropped).
                    var second: [Delivery] = []
                    for attempt in 0..<60 where second.isEmpty {
                        try? await publisher.publish(exchange: "", routingKey: queue, body: [2, UInt8(attempt)])
                        second = await inbox.take(1, timeout: .milliseconds(500))
                    }
                    #expect(second.first?.body.first == 2, "nothing consumed after the queue was deleted")
                }
            }
            await TestSupport.cleanUp(queues: [queue])
        }

        @Test func consumerDeadLettersADeliveryItCannotDecodeAndGoesOn() async throws {
            let queue = TestSupport.unique("undecodable")
            let dead = TestSupport.unique("undecodable.dead")
            let topology = Topology(queues: [
                QueueDeclaration(name: dead, durable: false),
                QueueDeclaration(
                    name: queue, durable: false,
                    arguments: ["x-dead-letter-exchange": "", "x-dead-letter-routing-key": .string(dead)]),
            ])
            try await TestSupport.withPublisher(topology: topology) { publisher in
                // RabbitMQ takes a header table with an empty field name; rabbitmq-c cannot decode it.
                var odd = MessageProperties()
                odd.headers = ["": "empty name"]
                try await publisher.publish(exchange: "", routingKey: queue, body: [1], properties: odd)
                try await publisher.publish(exchange: "", routingKey: queue, body: [2])
                try await TestSupport.withConsumer(topology: topology, queue: queue) { consumer in
                    // The message behind it arrives: the undecodable one does not block the queue.
                    let next = try await TestSupport.collect(consumer, count: 1)
                    #expect(next.map(\.body) == [[2]])
                    if let d = next.first { consumer.ack(d.deliveryTag) }
                }
            }
            // It was rejected without requeue, so the broker dead-lettered it.
            let listing = try await TestSupport.shell(["rabbitmqctl", "-q", "list_queues", "name", "messages"])
            #expect(listing.split(separator: "\n").contains("\(dead)\t1"), "\(listing)")
            await TestSupport.cleanUp(queues: [queue, dead])
        }

        @Test func publisherReconnectsAfterTheBrokerClosesItsConnection() async throws {
            let queue = TestSupport.unique("pubreconnect")
            let name = TestSupport.unique("conn")
            let topology = Topology(queues: [QueueDeclaration(name: queue, durable: false)])
            try await TestSupport.withPublisher(TestSupport.configuration(name: name), topology: topology) { publisher in
                try await publisher.publish(exchange: "", routingKey: queue, body: [1])
                #expect(try await TestSupport.closeConnection(named: name) == 1)
                // Publishes issued while reconnecting wait for the new connection and are confirmed.
                var confirmed = 0
                for i in 2...5 {
                    do {
                        try await publisher.publish(exchange: "", routingKey: queue, body: [UInt8(i)])
                        confirmed += 1
                    } catch let error as AMQPError {
                        // Only a publish caught on the dying connection may fail, and then as connectionClosed.
                        #expect(error.kind == .connectionClosed)
                    }
                }
                #expect(confirmed >= 3)
                try await publisher.publish(exchange: "", routingKey: queue, body: [6])
            }
            await TestSupport.cleanUp(queues: [queue])
        }
    }
}
