import AMQP
import Testing

/// Polls `condition` every 50 ms for up to `seconds`.
private func eventually(seconds: Int = 15, _ condition: () -> Bool) async -> Bool {
    for _ in 0..<(seconds * 20) {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return condition()
}

extension BrokerTests {
    @Suite("Connection status")
    struct ConnectionStatusTests {
        @Test func consumerTellsWhetherItConsumesAndCountsEachReconnect() async throws {
            let queue = TestSupport.unique("status")
            let name = TestSupport.unique("conn")
            let topology = Topology(queues: [QueueDeclaration(name: queue, durable: false)])
            let reconnects = Counter()
            let consumer = AMQPConsumer(
                configuration: TestSupport.configuration(name: name), topology: topology, queue: queue, prefetch: 10,
                logger: TestSupport.logger, onReconnect: { reconnects.add() }
            )
            #expect(!consumer.isConsuming)
            let task = Task { try await consumer.run() }
            _ = await consumer.queueName
            #expect(consumer.isConsuming)
            #expect(reconnects.count == 0)

            #expect(try await TestSupport.closeConnection(named: name) == 1)
            #expect(await eventually { reconnects.count == 1 && consumer.isConsuming })

            await consumer.close()
            try await task.value
            #expect(!consumer.isConsuming)
            #expect(reconnects.count == 1)
            await TestSupport.cleanUp(queues: [queue])
        }

        @Test func publisherCountsEachReconnect() async throws {
            let queue = TestSupport.unique("pubstatus")
            let name = TestSupport.unique("conn")
            let topology = Topology(queues: [QueueDeclaration(name: queue, durable: false)])
            let reconnects = Counter()
            let publisher = AMQPPublisher(
                configuration: TestSupport.configuration(name: name), topology: topology, logger: TestSupport.logger,
                onReconnect: { reconnects.add() }
            )
            let task = Task { try await publisher.run() }
            try await publisher.publish(exchange: "", routingKey: queue, body: [1])
            #expect(reconnects.count == 0)

            #expect(try await TestSupport.closeConnection(named: name) == 1)
            #expect(await eventually { reconnects.count == 1 })
            try await publisher.publish(exchange: "", routingKey: queue, body: [2])

            await publisher.close()
            try await task.value
            #expect(reconnects.count == 1)
            await TestSupport.cleanUp(queues: [queue])
        }
    }
}
