import AMQP
import Foundation
import Testing

extension BrokerTests {
    @Suite("Publishing")
    struct PublisherTests {
        @Test func declaresExchangesClassicAndQuorumQueuesWithDeadLetteringAndBindings() async throws {
            let exchange = TestSupport.unique("ex")
            let dlx = TestSupport.unique("dlx")
            let classic = TestSupport.unique("classic")
            let quorum = TestSupport.unique("quorum")
            let dead = TestSupport.unique("dead")
            let topology = Topology(
                exchanges: [
                    ExchangeDeclaration(name: exchange, type: "topic"),
                    ExchangeDeclaration(name: dlx, type: "fanout"),
                ],
                queues: [
                    QueueDeclaration(name: classic, type: .classic, arguments: ["x-dead-letter-exchange": .string(dlx)]),
                    QueueDeclaration(name: quorum, type: .quorum, arguments: ["x-dead-letter-exchange": .string(dlx), "x-delivery-limit": .int32(3)]),
                    QueueDeclaration(name: dead),
                ],
                bindings: [
                    Binding(exchange: exchange, queue: classic, routingKey: "jobs.*"),
                    Binding(exchange: exchange, queue: quorum, routingKey: "jobs.#"),
                    Binding(exchange: dlx, queue: dead),
                ])
            try await TestSupport.withPublisher(topology: topology) { publisher in
                // Re-declaring the same topology is idempotent.
                try await publisher.declare(topology)
                // Declaring with other arguments is refused: the arguments were applied.
                do {
                    try await publisher.declare(Topology(queues: [QueueDeclaration(name: classic, type: .classic)]))
                    Issue.record("expected 406")
                } catch let error as AMQPError {
                    #expect(error.kind == .channelClosed(replyCode: 406, replyText: error.kindText))
                }
                // The bindings route: one message reaches both queues.
                try await publisher.publish(exchange: exchange, routingKey: "jobs.a", body: [1], mandatory: true)
            }
            let listing = try await TestSupport.shell(["rabbitmqctl", "-q", "list_queues", "name", "type", "messages"])
            let lines = listing.split(separator: "\n")
            #expect(lines.contains { $0.hasPrefix(quorum) && $0.contains("quorum") })
            #expect(lines.contains { $0.hasPrefix(classic) && $0.contains("classic") })
            // Rejecting without requeue dead-letters into `dead` (covered for nack in ConsumerTests too).
            try await TestSupport.withConsumer(queue: quorum) { consumer in
                let got = try await TestSupport.collect(consumer, count: 1)
                consumer.reject(got[0].deliveryTag, requeue: false)
            }
            try await TestSupport.withConsumer(queue: dead) { consumer in
                let got = try await TestSupport.collect(consumer, count: 1)
                #expect(got.first?.body == [1])
                #expect(got.first?.properties.headers["x-death"] != nil)
                consumer.ack(got[0].deliveryTag)
            }
            await TestSupport.cleanUp(queues: [classic, quorum, dead], exchanges: [exchange, dlx])
        }

        @Test func aQueueThatAcceptsExistingTypeKeepsAnOlderClassicQueueAndPublishingGoesOn() async throws {
            let exchange = TestSupport.unique("ex")
            let queue = TestSupport.unique("was-classic")
            let older = Topology(
                exchanges: [ExchangeDeclaration(name: exchange, type: "fanout")],
                queues: [QueueDeclaration(name: queue, type: .classic)],
                bindings: [Binding(exchange: exchange, queue: queue)])
            var newer = older
            newer.queues = [QueueDeclaration(name: queue, type: .quorum, acceptsExistingType: true)]
            try await TestSupport.withPublisher(topology: older) { publisher in
                // The newer declaration on a connection in confirm mode: kept, no error, and the
                // channel (with its confirms) is untouched.
                try await publisher.declare(newer)
                try await publisher.publish(exchange: exchange, routingKey: "", body: [7], mandatory: true)
            }
            // On a fresh connection too (where the topology is declared before confirms).
            try await TestSupport.withPublisher(topology: newer) { publisher in
                try await publisher.publish(exchange: exchange, routingKey: "", body: [8], mandatory: true)
            }
            let listing = try await TestSupport.shell(["rabbitmqctl", "-q", "list_queues", "name", "type", "messages"])
            #expect(listing.split(separator: "\n").contains { $0.hasPrefix(queue) && $0.contains("classic") && $0.hasSuffix("2") })
            await TestSupport.cleanUp(queues: [queue], exchanges: [exchange])
        }

        @Test func everyPropertyRoundTripsUnchanged() async throws {
            let queue = TestSupport.unique("props")
            let topology = Topology(queues: [QueueDeclaration(name: queue, durable: false)])
            let timestamp = Date(timeIntervalSince1970: 1_790_000_000)
            let properties = MessageProperties(
                contentType: "application/json", contentEncoding: "identity",
                headers: [
                    "s": "text ✓", "b": .bool(true), "i8": .int8(-8), "u8": .uint8(200), "i16": .int16(-1600),
                    "u16": .uint16(60000), "i32": .int32(-320000), "u32": .uint32(4_000_000_000), "i64": .int64(-64_000_000_000),
                    "f": .float(1.5), "d": .double(-2.25), "dec": .decimal(scale: 2, value: 12345), "bytes": .bytes([0, 1, 255]),
                    "ts": .timestamp(timestamp), "void": .void,
                    "nested": .table(["inner": .table(["deep": .int32(1)]), "list": .array([.string("a"), .int64(2), .table(["k": .bool(false)])])]),
                    "arr": .array([.array([.int32(1)]), .void, .string("z")]),
                ],
                deliveryMode: .persistent, priority: 7, correlationId: "corr-1", replyTo: "reply.q", expiration: "60000",
                messageId: "msg-1", timestamp: timestamp, type: "job.submitted", userId: "guest", appId: "amqp-tests")
            let body = (0..<1000).map { UInt8(truncatingIfNeeded: $0) }
            try await TestSupport.withPublisher(topology: topology) { publisher in
                try await TestSupport.withConsumer(topology: topology, queue: queue) { consumer in
                    try await publisher.publish(exchange: "", routingKey: queue, body: body, properties: properties)
                    try await publisher.publish(exchange: "", routingKey: queue, body: [])
                    let got = try await TestSupport.collect(consumer, count: 2)
                    #expect(got.count == 2)
                    #expect(got.first?.properties == properties)
                    #expect(got.first?.body == body)
                    #expect(got.first?.routingKey == queue)
                    #expect(got.first?.exchange == "")
                    #expect(got.last?.body == [])
                    #expect(got.last?.properties == MessageProperties())
                    consumer.ack(got[1].deliveryTag, multiple: true)
                }
            }
            await TestSupport.cleanUp(queues: [queue])
        }

        @Test func aNackReopensTheChannelAndEveryLaterPublishIsConfirmedAsItself() async throws {
            // A queue that refuses the second message: the broker nacks it.
            let full = TestSupport.unique("full")
            let other = TestSupport.unique("other")
            let topology = Topology(queues: [
                QueueDeclaration(name: full, durable: false, arguments: ["x-max-length": .int32(1), "x-overflow": .string("reject-publish")]),
                QueueDeclaration(name: other, durable: false),
            ])
            try await TestSupport.withPublisher(topology: topology) { publisher in
                try await publisher.publish(exchange: "", routingKey: full, body: [1])
                do {
                    try await publisher.publish(exchange: "", routingKey: full, body: [2])
                    Issue.record("expected a nack")
                } catch let error as AMQPError {
                    #expect(error.kind == .nacked)
                }
                // On the reopened channel, delivery tags start again: each publish is settled by its
                // own confirm, and a nack among them settles only its own.
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for i in 0..<50 {
                        group.addTask { try await publisher.publish(exchange: "", routingKey: other, body: [UInt8(i)]) }
                    }
                    try await group.waitForAll()
                }
                await #expect(throws: AMQPError.self) { try await publisher.publish(exchange: "", routingKey: full, body: [3]) }
                try await publisher.publish(exchange: "", routingKey: other, body: [99])
            }
            let listing = try await TestSupport.shell(["rabbitmqctl", "-q", "list_queues", "name", "messages"])
            let counts = listing.split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
            #expect(counts.contains([other, "51"]))
            #expect(counts.contains([full, "1"]))
            await TestSupport.cleanUp(queues: [full, other])
        }

        @Test func missingExchangeThrows404AndTheNextPublishSucceeds() async throws {
            let queue = TestSupport.unique("after404")
            let topology = Topology(queues: [QueueDeclaration(name: queue, durable: false)])
            try await TestSupport.withPublisher(topology: topology) { publisher in
                do {
                    try await publisher.publish(exchange: TestSupport.unique("missing"), routingKey: "x", body: [1])
                    Issue.record("expected channelClosed 404")
                } catch let error as AMQPError {
                    guard case .channelClosed(404, let text) = error.kind else {
                        Issue.record("unexpected \(error)")
                        return
                    }
                    #expect(text.contains("NOT_FOUND"))
                    #expect(!error.isConnectionFatal)
                }
                // Same publisher, same connection, reopened channel.
                try await publisher.publish(exchange: "", routingKey: queue, body: [2])
                try await publisher.publish(exchange: "", routingKey: queue, body: [3], mandatory: true)
            }
            let count = try await TestSupport.shell(["rabbitmqctl", "-q", "list_queues", "name", "messages"])
            #expect(count.split(separator: "\n").contains { $0.hasPrefix(queue) && $0.hasSuffix("\t2") })
            await TestSupport.cleanUp(queues: [queue])
        }

        @Test func mandatoryUnroutableThrowsReturned() async throws {
            let exchange = TestSupport.unique("noroute")
            let topology = Topology(exchanges: [ExchangeDeclaration(name: exchange, durable: false, autoDelete: false)])
            try await TestSupport.withPublisher(topology: topology) { publisher in
                do {
                    try await publisher.publish(exchange: exchange, routingKey: "nobody", body: [9], mandatory: true)
                    Issue.record("expected returned")
                } catch let error as AMQPError {
                    #expect(error.kind == .returned(replyCode: 312, replyText: "NO_ROUTE"))
                }
                // Without mandatory the broker drops it silently but still confirms.
                try await publisher.publish(exchange: exchange, routingKey: "nobody", body: [9])
                // A returned message among many routable ones fails only itself.
                try await withThrowingTaskGroup(of: Bool.self) { group in
                    for i in 0..<50 {
                        group.addTask {
                            do {
                                try await publisher.publish(exchange: exchange, routingKey: i == 25 ? "nobody" : "nobody-\(i)", body: [UInt8(i)], mandatory: i == 25)
                                return true
                            } catch { return false }
                        }
                    }
                    var failed = 0
                    for try await ok in group where !ok { failed += 1 }
                    #expect(failed == 1)
                }
            }
            await TestSupport.cleanUp(exchanges: [exchange])
        }

        @Test func closeWaitsForConfirmsAndLaterPublishesThrowClosed() async throws {
            let queue = TestSupport.unique("close")
            let topology = Topology(queues: [QueueDeclaration(name: queue, durable: false)])
            let publisher = AMQPPublisher(configuration: TestSupport.configuration(), topology: topology, logger: TestSupport.logger)
            let run = Task { try await publisher.run() }
            let confirmed = Counter()
            let tasks = (0..<200).map { i in
                Task {
                    try await publisher.publish(exchange: "", routingKey: queue, body: [UInt8(i % 256)])
                    confirmed.add()
                }
            }
            for task in tasks { try await task.value }
            await publisher.close()
            try await run.value
            #expect(confirmed.count == 200)
            await #expect(throws: AMQPError.self) { try await publisher.publish(exchange: "", routingKey: queue, body: [1]) }
            await TestSupport.cleanUp(queues: [queue])
        }
    }
}

extension AMQPError {
    /// The reply text of a channel error, for matching the code alone.
    var kindText: String {
        if case .channelClosed(_, let text) = kind { return text }
        return ""
    }
}
