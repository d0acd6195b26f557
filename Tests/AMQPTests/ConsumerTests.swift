import AMQP
import Foundation
import Testing

extension BrokerTests {
    @Suite("Consuming")
    struct ConsumerTests {
        @Test func prefetchAckNackRejectAndCumulativeAck() async throws {
            let queue = TestSupport.unique("work")
            let dlx = TestSupport.unique("work.dlx")
            let dead = TestSupport.unique("work.dead")
            let topology = Topology(
                exchanges: [ExchangeDeclaration(name: dlx, type: "fanout", durable: false)],
                queues: [
                    QueueDeclaration(name: queue, durable: false, arguments: ["x-dead-letter-exchange": .string(dlx)]),
                    QueueDeclaration(name: dead, durable: false),
                ],
                bindings: [Binding(exchange: dlx, queue: dead)])
            try await TestSupport.withPublisher(topology: topology) { publisher in
                for i in 0..<10 { try await publisher.publish(exchange: "", routingKey: queue, body: [UInt8(i)]) }
                try await TestSupport.withConsumer(topology: topology, queue: queue, prefetch: 5) { consumer in
                    let inbox = DeliveryInbox(consumer)
                    let first = await inbox.take(5)
                    #expect(first.map(\.body) == (0..<5).map { [UInt8($0)] })
                    // Prefetch 5: nothing more arrives until something is settled.
                    try await Task.sleep(for: .milliseconds(300))
                    #expect(inbox.count == 0)
                    #expect(first.allSatisfy { !$0.redelivered })

                    consumer.ack(first[0].deliveryTag)
                    consumer.reject(first[1].deliveryTag, requeue: false)  // -> dead
                    consumer.nack(first[2].deliveryTag, requeue: false)  // -> dead
                    consumer.nack(first[3].deliveryTag, requeue: true)  // -> back to the queue
                    consumer.ack(first[4].deliveryTag)

                    // The window refills with the requeued message and four fresh ones.
                    let rest = await inbox.take(5)
                    #expect(Set(rest.map { $0.body[0] }) == [3, 5, 6, 7, 8])
                    #expect(rest.first { $0.body == [3] }?.redelivered == true)
                    // One cumulative ack settles all of them (tags of one channel are ascending)...
                    let last = rest.max { $0.deliveryTag < $1.deliveryTag }!
                    consumer.ack(last.deliveryTag, multiple: true)
                    // ...which frees the window for the last message.
                    let final = await inbox.take(1)
                    #expect(final.map(\.body) == [[9]])
                    consumer.ack(final[0].deliveryTag)
                    try await Task.sleep(for: .milliseconds(300))
                    #expect(inbox.count == 0)
                }
                // Everything settled: the queue is empty, the two dead-lettered ones are in `dead`.
                try await TestSupport.withConsumer(topology: topology, queue: dead) { consumer in
                    let inbox = DeliveryInbox(consumer)
                    let deadLettered = await inbox.take(2)
                    #expect(Set(deadLettered.map { $0.body[0] }) == [1, 2])
                    for d in deadLettered { consumer.ack(d.deliveryTag) }
                }
                try await TestSupport.withConsumer(topology: topology, queue: queue) { consumer in
                    let inbox = DeliveryInbox(consumer)
                    try await Task.sleep(for: .milliseconds(300))
                    #expect(inbox.count == 0)
                }
            }
            await TestSupport.cleanUp(queues: [queue, dead], exchanges: [dlx])
        }

        @Test func serverNamedQueueBoundToATopicExchange() async throws {
            let exchange = TestSupport.unique("control")
            let topology = Topology(
                exchanges: [ExchangeDeclaration(name: exchange, type: "topic", durable: false)],
                queues: [.serverNamed()],
                bindings: [Binding(exchange: exchange, queue: "", routingKey: "control.#")])
            try await TestSupport.withPublisher(topology: Topology(exchanges: topology.exchanges)) { publisher in
                try await TestSupport.withConsumer(topology: topology, queue: "") { consumer in
                    let name = await consumer.queueName
                    #expect(name.hasPrefix("amq.gen-"))
                    let inbox = DeliveryInbox(consumer)
                    try await publisher.publish(exchange: exchange, routingKey: "control.cancel", body: Array("stop".utf8))
                    try await publisher.publish(exchange: exchange, routingKey: "other", body: Array("ignored".utf8))
                    let got = await inbox.take(1)
                    #expect(got.first?.routingKey == "control.cancel")
                    if let d = got.first { consumer.ack(d.deliveryTag) }
                }
            }
            await TestSupport.cleanUp(exchanges: [exchange])
        }

        @Test func consumerResumesAfterTheBrokerClosesItsConnection() async throws {
            let queue = TestSupport.unique("resume")
            let name = TestSupport.unique("conn")
            let topology = Topology(queues: [QueueDeclaration(name: queue, durable: false)])
            try await TestSupport.withPublisher(topology: topology) { publisher in
                let config = TestSupport.configuration(name: name)
                try await TestSupport.withConsumer(config, topology: topology, queue: queue) { consumer in
                    let inbox = DeliveryInbox(consumer)
                    try await publisher.publish(exchange: "", routingKey: queue, body: [1])
                    let before = await inbox.take(1)
                    #expect(before.map(\.body) == [[1]])  // left unacked on purpose

                    #expect(try await TestSupport.closeConnection(named: name) == 1)
                    // Wait for the consumer to be back (queueName is set again on reconnect).
                    try await Task.sleep(for: .milliseconds(500))
                    try await publisher.publish(exchange: "", routingKey: queue, body: [2])
                    let after = await inbox.take(2)
                    #expect(after.map(\.body).sorted { $0[0] < $1[0] } == [[1], [2]])
                    #expect(after.first { $0.body == [1] }?.redelivered == true)
                    #expect(after.allSatisfy { $0.generation != before[0].generation })

                    // The stale tag is dropped, not sent (it would kill the new channel with 406).
                    consumer.ack(before[0].deliveryTag)
                    for d in after { consumer.ack(d.deliveryTag) }
                    try await publisher.publish(exchange: "", routingKey: queue, body: [3])
                    let third = await inbox.take(1)
                    #expect(third.map(\.body) == [[3]])
                    #expect(third.first?.generation == after.first?.generation)
                    if let d = third.first { consumer.ack(d.deliveryTag) }
                }
            }
            await TestSupport.cleanUp(queues: [queue])
        }
    }
}
