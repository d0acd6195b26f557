import AMQP
import Foundation
import Testing

extension BrokerTests {
    @Suite("Connecting")
    struct ConnectionTests {
        @Test func badPasswordFailsWithAuthenticationError() async throws {
            var c = TestSupport.configuration()
            c.password = "definitely-wrong"
            let publisher = AMQPPublisher(configuration: c, logger: TestSupport.logger)
            do {
                try await publisher.run()
                Issue.record("run() should throw")
            } catch let error as AMQPError {
                #expect(error.kind == .authenticationFailed)
                #expect(error.message.contains("authentication"))
                #expect(!error.message.contains("definitely-wrong"))
            }
            // A publish after the failed start is rejected, not hung.
            await #expect(throws: AMQPError.self) {
                try await publisher.publish(exchange: "", routingKey: "x", body: [1])
            }
        }

        @Test func closedPortFailsWithinTheConnectTimeout() async throws {
            var c = try AMQPConfiguration(url: "amqp://guest:guest@127.0.0.1:1/")
            c.connectTimeout = .seconds(2)
            let consumer = AMQPConsumer(configuration: c, topology: .init(), queue: "q", prefetch: 1, logger: TestSupport.logger)
            let start = ContinuousClock.now
            do {
                try await consumer.run()
                Issue.record("run() should throw")
            } catch let error as AMQPError {
                #expect(error.kind == .connectionFailed)
                #expect(error.message.contains("127.0.0.1:1"))
            }
            #expect(ContinuousClock.now - start < .seconds(4))
            // The stream finishes with the same error.
            await #expect(throws: AMQPError.self) {
                for try await _ in consumer.deliveries {}
            }
            #expect(await consumer.queueName == "")
        }

        @Test func aNodeThatCannotBeReachedIsSkippedForTheNextOne() async throws {
            var c = TestSupport.configuration()
            c.otherNodes = c.nodes
            c.host = "127.0.0.1"
            c.port = 1
            let queue = TestSupport.unique("nodes")
            let topology = Topology(queues: [QueueDeclaration(name: queue, durable: false, autoDelete: true)])
            let bodies = try await TestSupport.withConsumer(c, topology: topology, queue: queue) { consumer in
                try await TestSupport.withPublisher(c, topology: topology) { publisher in
                    try await publisher.publish(exchange: "", routingKey: queue, body: Array("over node 2".utf8))
                }
                return try await TestSupport.collect(consumer, count: 1).map(\.body)
            }
            #expect(bodies == [Array("over node 2".utf8)])
        }

        @Test func whenNoNodeAnswersTheErrorNamesEach() async throws {
            var c = try AMQPConfiguration(url: "amqp://guest:guest@127.0.0.1:1/,amqp://guest:guest@127.0.0.1:2/")
            c.connectTimeout = .seconds(2)
            let publisher = AMQPPublisher(configuration: c, logger: TestSupport.logger)
            do {
                try await publisher.run()
                Issue.record("run() should throw")
            } catch let error as AMQPError {
                #expect(error.kind == .connectionFailed)
                #expect(error.message.contains("127.0.0.1:1") && error.message.contains("127.0.0.1:2"), "\(error.message)")
            }
        }

        @Test func brokerThatNeverAnswersFailsWithinTheTimeouts() async throws {
            // A loopback listener that accepts TCP but never speaks AMQP: the handshake must give up.
            let listener = try SilentListener()
            defer { listener.close() }
            var c = try AMQPConfiguration(url: "amqp://guest:guest@127.0.0.1:\(listener.port)/")
            c.connectTimeout = .seconds(1)
            c.rpcTimeout = .seconds(1)
            let publisher = AMQPPublisher(configuration: c, logger: TestSupport.logger)
            let start = ContinuousClock.now
            await #expect(throws: AMQPError.self) { try await publisher.run() }
            #expect(ContinuousClock.now - start < .seconds(5))
        }

        @Test func tlsRoundTripWithAVerifiedCertificate() async throws {
            let ca = try #require(TestSupport.tlsCA, "scripts/broker start makes the test CA; run the tests through scripts/test")
            var c = try AMQPConfiguration(url: "amqps://guest:guest@localhost:5671/?cacertfile=\(ca)")
            c.connectTimeout = .seconds(5)
            #expect(c.tls.verifyPeer && c.tls.verifyHostname)
            let queue = TestSupport.unique("tls")
            let topology = Topology(queues: [QueueDeclaration(name: queue, durable: false)])
            try await TestSupport.withPublisher(c, topology: topology) { publisher in
                try await TestSupport.withConsumer(c, topology: topology, queue: queue) { consumer in
                    try await publisher.publish(exchange: "", routingKey: queue, body: Array("over tls".utf8))
                    let got = try await TestSupport.collect(consumer, count: 1)
                    #expect(got.map { String(decoding: $0.body, as: UTF8.self) } == ["over tls"])
                }
            }
            await TestSupport.cleanUp(queues: [queue])
        }

        @Test func tlsWithAnUntrustedCertificateFails() async throws {
            // Verification on, but the test CA is not trusted: the handshake must fail, not connect.
            let error = try await startFailure("amqps://guest:guest@localhost:5671/")
            #expect(error?.kind == .tlsFailed, "\(String(describing: error))")
        }

        @Test func tlsAgainstThePlainPortFailsWithTLSError() async throws {
            let error = try await startFailure("amqps://guest:guest@127.0.0.1:5672/?verify=verify_none")
            #expect(error?.kind == .tlsFailed, "\(String(describing: error))")
            #expect(error?.message.contains("TLS") == true)
        }

        /// The error a publisher's start throws for `url`; records an issue if it starts instead.
        private func startFailure(_ url: String) async throws -> AMQPError? {
            var c = try AMQPConfiguration(url: url)
            c.connectTimeout = .seconds(5)
            let publisher = AMQPPublisher(configuration: c, logger: TestSupport.logger)
            do {
                try await publisher.run()
                Issue.record("run() should throw")
                return nil
            } catch let error as AMQPError {
                return error
            }
        }

        @Test func heartbeatKeepsAnIdleConnectionAlive() async throws {
            let queue = TestSupport.unique("hb")
            let name = TestSupport.unique("hbconn")
            let topology = Topology(queues: [QueueDeclaration(name: queue, durable: false)])
            // Both connections carry the same name; the broker drops a connection that misses
            // 2 heartbeats (4 s here), so after 7 s idle the same two connections must still exist.
            let c = TestSupport.configuration(name: name, heartbeat: .seconds(2))
            try await TestSupport.withPublisher(c, topology: topology) { publisher in
                try await TestSupport.withConsumer(c, topology: topology, queue: queue) { consumer in
                    let inbox = DeliveryInbox(consumer)
                    try await publisher.publish(exchange: "", routingKey: queue, body: Array("before".utf8))
                    let before = await inbox.take(1)
                    #expect(before.map(\.body) == [Array("before".utf8)])
                    consumer.ack(before[0].deliveryTag)
                    let pidsBefore = try await TestSupport.connectionPids(named: name)
                    #expect(pidsBefore.count == 2)
                    try await Task.sleep(for: .seconds(7))
                    #expect(try await TestSupport.connectionPids(named: name) == pidsBefore)
                    try await publisher.publish(exchange: "", routingKey: queue, body: Array("after".utf8))
                    let after = await inbox.take(1)
                    #expect(after.map(\.body) == [Array("after".utf8)])
                    // Same channel generation: the consumer never reconnected.
                    #expect(after.first?.generation == before.first?.generation)
                    #expect(after.first?.redelivered == false)
                    if let d = after.first { consumer.ack(d.deliveryTag) }
                }
            }
            await TestSupport.cleanUp(queues: [queue])
        }
    }
}
