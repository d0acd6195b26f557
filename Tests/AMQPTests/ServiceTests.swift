import AMQP
import Logging
import ServiceLifecycle
import Testing

extension BrokerTests {
    @Suite("ServiceGroup")
    struct ServiceTests {
        @Test func gracefulShutdownEndsPublisherAndConsumer() async throws {
            let queue = TestSupport.unique("service")
            let topology = Topology(queues: [QueueDeclaration(name: queue, durable: false)])
            let publisher = AMQPPublisher(configuration: TestSupport.configuration(), topology: topology, logger: TestSupport.logger)
            let consumer = AMQPConsumer(configuration: TestSupport.configuration(), topology: topology, queue: queue, prefetch: 10, logger: TestSupport.logger)
            let group = ServiceGroup(
                configuration: .init(services: [.init(service: consumer), .init(service: publisher)], logger: TestSupport.logger))
            let running = Task { try await group.run() }
            _ = await consumer.queueName
            try await publisher.publish(exchange: "", routingKey: queue, body: [1])
            var received = 0
            for try await batch in consumer.deliveries {
                received += batch.count
                consumer.ack(batch.last!.deliveryTag, multiple: true)
                break
            }
            #expect(received == 1)
            await group.triggerGracefulShutdown()
            try await running.value
            // The stream is finished and further publishes are refused.
            var more = 0
            for try await batch in consumer.deliveries { more += batch.count }
            #expect(more == 0)
            await #expect(throws: AMQPError.self) { try await publisher.publish(exchange: "", routingKey: queue, body: [2]) }
            await TestSupport.cleanUp(queues: [queue])
        }
    }
}
