import AMQP
import Foundation
import Logging
import Testing

/// Helpers shared by the integration tests. Everything runs against the real broker on 127.0.0.1:5672.
enum TestSupport {
    static let url = ProcessInfo.processInfo.environment["AMQP_TEST_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/%2F"

    static func configuration(name: String = "amqp-tests", heartbeat: Duration? = nil) -> AMQPConfiguration {
        var c = try! AMQPConfiguration(url: url)
        c.connectionName = name
        c.connectTimeout = .seconds(3)
        c.rpcTimeout = .seconds(10)
        c.reconnectBackoff = ReconnectBackoff(min: .milliseconds(100), max: .seconds(1))
        if let heartbeat { c.heartbeat = heartbeat }
        return c
    }

    static let logger: Logger = {
        var l = Logger(label: "amqp-tests")
        l.logLevel = ProcessInfo.processInfo.environment["AMQP_TEST_LOG"] == nil ? .critical : .debug
        return l
    }()

    static func unique(_ prefix: String) -> String {
        "test.\(prefix).\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// Runs `body` with a running publisher, then closes it.
    static func withPublisher<T: Sendable>(
        _ configuration: AMQPConfiguration = configuration(), topology: Topology = .init(),
        _ body: (AMQPPublisher) async throws -> T
    ) async throws -> T {
        let publisher = AMQPPublisher(configuration: configuration, topology: topology, logger: logger)
        let task = Task { try await publisher.run() }
        do {
            let result = try await body(publisher)
            await publisher.close()
            try await task.value
            return result
        } catch {
            await publisher.close()
            _ = try? await task.value
            throw error
        }
    }

    /// Runs `body` with a running consumer (already consuming), then closes it.
    static func withConsumer<T: Sendable>(
        _ configuration: AMQPConfiguration = configuration(), topology: Topology = .init(), queue: String,
        prefetch: UInt16 = 50, _ body: (AMQPConsumer) async throws -> T
    ) async throws -> T {
        let consumer = AMQPConsumer(configuration: configuration, topology: topology, queue: queue, prefetch: prefetch, logger: logger)
        let task = Task { try await consumer.run() }
        _ = await consumer.queueName
        do {
            let result = try await body(consumer)
            await consumer.close()
            try await task.value
            return result
        } catch {
            await consumer.close()
            _ = try? await task.value
            throw error
        }
    }

    /// Deletes queues and exchanges (best effort) through a short-lived publisher.
    static func cleanUp(queues: [String] = [], exchanges: [String] = []) async {
        _ = try? await withPublisher { p in
            for q in queues { try? await p.deleteQueue(q) }
            for e in exchanges { try? await p.deleteExchange(e) }
        }
    }

    /// Collects deliveries until `count` arrived or `timeout` passed.
    static func collect(
        _ consumer: AMQPConsumer, count: Int, timeout: Duration = .seconds(10),
        onBatch: @escaping @Sendable ([Delivery]) -> Void = { _ in }
    ) async throws -> [Delivery] {
        try await withThrowingTaskGroup(of: [Delivery]?.self) { group in
            group.addTask {
                var all: [Delivery] = []
                for try await batch in consumer.deliveries {
                    onBatch(batch)
                    all += batch
                    if all.count >= count { break }
                }
                return all
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            let first = try await group.next()!
            group.cancelAll()
            guard let first else {
                Issue.record("timed out waiting for \(count) deliveries")
                return []
            }
            return first
        }
    }

    /// Runs a command (rabbitmqctl) and returns its standard output.
    @discardableResult
    static func shell(_ arguments: [String]) async throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        let output = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Data, any Error>) in
            process.terminationHandler = { _ in
                continuation.resume(returning: pipe.fileHandleForReading.readDataToEndOfFile())
            }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Broker-side pids of the connections whose client property connection_name is `name`.
    static func connectionPids(named name: String) async throws -> [String] {
        let listing = try await shell(["rabbitmqctl", "-q", "list_connections", "pid", "client_properties"])
        return listing.split(separator: "\n").filter { $0.contains("\"\(name)\"") }.compactMap {
            $0.split(separator: "\t").first.map(String.init)
        }
    }

    /// Closes the broker-side connection whose client property connection_name is `name`.
    static func closeConnection(named name: String) async throws -> Int {
        let listing = try await shell(["rabbitmqctl", "-q", "list_connections", "pid", "client_properties"])
        var closed = 0
        for line in listing.split(separator: "\n") where line.contains("\"\(name)\"") {
            guard let pid = line.split(separator: "\t").first else { continue }
            try await shell(["rabbitmqctl", "-q", "close_connection", String(pid), "closed by test"])
            closed += 1
        }
        return closed
    }
}

/// A thread-safe counter for tests.
final class Counter: Sendable {
    private let value = Mutex(0)
    func add(_ n: Int = 1) { value.withLock { $0 += n } }
    var count: Int { value.withLock { $0 } }
}

import Synchronization

extension TestSupport {
    /// The test CA that `scripts/broker start` makes for the broker's TLS listener (127.0.0.1:5671);
    /// `AMQP_TEST_TLS_CA` or `GOLEM_BRIDGE_BROKER_DIR` override the path. `nil` when it does not exist.
    static var tlsCA: String? {
        let environment = ProcessInfo.processInfo.environment
        let path = environment["AMQP_TEST_TLS_CA"]
            ?? (environment["GOLEM_BRIDGE_BROKER_DIR"] ?? "/var/lib/golem-bridge-test-broker") + "/tls/ca.pem"
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }
}

/// A TCP listener on 127.0.0.1 that lets the kernel accept connections and never says a word: a
/// broker that hangs during the handshake.
final class SilentListener: Sendable {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard fd >= 0, bound == 0, listen(fd, 8) == 0 else { throw AMQPTestError("cannot listen on 127.0.0.1") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { _ = Glibc.close(fd) }
}

struct AMQPTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
