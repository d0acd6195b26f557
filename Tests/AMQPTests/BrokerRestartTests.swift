import AMQP
import Foundation
import Synchronization
import Testing

extension BrokerTests {
    @Suite("Broker restart", .serialized)
    struct BrokerRestartTests {
        /// Runs `body`, then always starts the broker app again (even when `body` threw), and waits
        /// until the broker accepts connections.
        private func withBrokerStopped(_ body: () async throws -> Void) async throws {
            var failure: (any Error)? = nil
            do { try await body() } catch { failure = error }
            try await TestSupport.shell(["timeout", "90", "rabbitmqctl", "-q", "start_app"])
            try await TestSupport.shell(["timeout", "90", "rabbitmqctl", "-q", "await_startup", "--timeout", "60"])
            if let failure { throw failure }
        }

        @Test func publisherAndConsumerSurviveABrokerRestart() async throws {
            let queue = TestSupport.unique("restart")
            let topology = Topology(queues: [QueueDeclaration(name: queue, durable: true)])
            let attempted = 300
            let confirmed = IntSet()
            let thrown = Counter()
            let consumed = IntSet()

            try await TestSupport.withPublisher(topology: topology) { publisher in
                try await TestSupport.withConsumer(topology: topology, queue: queue, prefetch: 20) { consumer in
                    let inbox = Task {
                        for try await batch in consumer.deliveries {
                            consumed.insert(batch.map { Int(String(decoding: $0.body, as: UTF8.self))! })
                            if let last = batch.last { consumer.ack(last.deliveryTag, multiple: true) }
                        }
                    }
                    // Publish steadily, 8 in flight, across the outage.
                    let publishing = Task {
                        await withTaskGroup(of: Void.self) { group in
                            for i in 0..<attempted {
                                if i >= 8 { await group.next() }
                                group.addTask {
                                    do {
                                        try await publisher.publish(
                                            exchange: "", routingKey: queue, body: Array("\(i)".utf8),
                                            properties: MessageProperties(deliveryMode: .persistent))
                                        confirmed.insert([i])
                                    } catch {
                                        thrown.add()
                                    }
                                }
                                try? await Task.sleep(for: .milliseconds(15))
                            }
                        }
                    }
                    try await Task.sleep(for: .milliseconds(800))
                    try await withBrokerStopped {
                        try await TestSupport.shell(["timeout", "90", "rabbitmqctl", "-q", "stop_app"])
                        try await Task.sleep(for: .seconds(1))
                    }
                    await publishing.value
                    let confirmedSet = confirmed.values
                    #expect(confirmedSet.count + thrown.count == attempted)
                    #expect(!confirmedSet.isEmpty)
                    // Every confirmed message is consumed (possibly more: a publish that threw may have landed).
                    let deadline = ContinuousClock.now + .seconds(30)
                    while ContinuousClock.now < deadline, !confirmedSet.isSubset(of: consumed.values) {
                        try await Task.sleep(for: .milliseconds(100))
                    }
                    let missing = confirmedSet.subtracting(consumed.values)
                    #expect(missing.isEmpty, "confirmed but never consumed: \(missing.sorted().prefix(20))")
                    inbox.cancel()
                }
            }
            await TestSupport.cleanUp(queues: [queue])
        }
    }
}

/// A thread-safe set of message numbers.
final class IntSet: Sendable {
    private let storage = Mutex<Set<Int>>([])
    func insert(_ values: [Int]) { storage.withLock { $0.formUnion(values) } }
    var values: Set<Int> { storage.withLock { $0 } }
}
