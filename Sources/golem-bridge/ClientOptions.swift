import AMQP
import ArgumentParser
import Bridge
import Foundation
import Logging

/// Options every client command shares.
struct ClientOptions: ParsableArguments {
    @Option(help: "Broker URL. [env GOLEM_BRIDGE_AMQP_URL; default amqp://guest:guest@127.0.0.1:5672/]")
    var amqpURL: String?

    @Option(help: "The bridge's topology prefix. [env GOLEM_BRIDGE_PREFIX; default golem]")
    var prefix: String?

    @Flag(help: "Print JSON (one document per line) instead of text.")
    var json = false

    func resolve() throws -> (AMQPConfiguration, ContractNames) {
        let settings = try Settings(configPath: nil)
        var amqp: AMQPConfiguration
        do {
            amqp = try AMQPConfiguration(url: settings.string("amqp-url", flag: amqpURL, default: "amqp://guest:guest@127.0.0.1:5672/"))
        } catch {
            throw ValidationError("--amqp-url: \(error)")
        }
        amqp.connectionName = "golem-bridge cli"
        amqp.connectTimeout = .seconds(5)
        return (amqp, ContractNames(prefix: settings.string("prefix", flag: prefix, default: "golem")))
    }
}

/// A short-lived client session: a publisher, and a private queue that receives what the command
/// waits for (events or a status reply). The queue is declared before anything is published, so
/// nothing that follows is missed, and it expires a minute after the client goes away.
final class ClientSession: Sendable {
    let publisher: AMQPPublisher
    let consumer: AMQPConsumer
    let replyQueue: String
    let names: ContractNames
    private let tasks: [Task<Void, any Error>]

    init(amqp: AMQPConfiguration, names: ContractNames, bindings: [String]) async throws {
        let logger = Logger(label: "golem-bridge.cli", factory: { _ in SwiftLogNoOpLogHandler() })
        self.names = names
        let replyQueue = "golem-bridge.cli.\(UUID().uuidString.lowercased())"
        self.replyQueue = replyQueue
        let topology = Topology(
            queues: [QueueDeclaration(name: replyQueue, durable: false, arguments: ["x-expires": .int32(60_000)])],
            bindings: bindings.map { Binding(exchange: names.eventsExchange, queue: replyQueue, routingKey: $0) }
        )
        let publisher = AMQPPublisher(configuration: amqp, logger: logger)
        let consumer = AMQPConsumer(configuration: amqp, topology: topology, queue: replyQueue, prefetch: 100, logger: logger)
        self.publisher = publisher
        self.consumer = consumer
        tasks = [Task { try await publisher.run() }, Task { try await consumer.run() }]
        do {
            try await publisher.declare(topology)
        } catch {
            throw CLIError("cannot reach the broker or declare a reply queue: \(error)")
        }
    }

    func close() async {
        await consumer.close()
        await publisher.close()
        for task in tasks { task.cancel() }
    }
}

/// An event as the CLI shows it, read from the CloudEvent JSON.
struct ShownEvent {
    var raw: [String: Any]
    var data: [String: Any]
    var event: String { data["event"] as? String ?? "?" }
    var jobId: String { data["jobId"] as? String ?? "?" }

    init?(_ body: [UInt8]) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
              let data = object["data"] as? [String: Any]
        else { return nil }
        raw = object
        self.data = data
    }

    var line: String {
        let time = (raw["time"] as? String).map { String($0.dropFirst(11).prefix(12)) } ?? ""
        var text = "\(time)  \(jobId)  \(event.padding(toLength: 8, withPad: " ", startingAt: 0)) \(data["state"] as? String ?? "")"
        if let attempt = data["attempt"] as? Int, attempt > 0 { text += "  attempt \(attempt)" }
        if let provider = data["provider"] as? [String: Any], let name = provider["name"] as? String { text += "  on \(name)" }
        if let error = data["error"] as? [String: Any] {
            text += "  \(error["code"] as? String ?? "?"): \(error["message"] as? String ?? "")"
        }
        if event == "progress", let step = data["step"] as? [String: Any] {
            text += "  step \(step["index"] as? Int ?? -1) \(step["kind"] as? String ?? "")"
            if let code = step["exitCode"] as? Int { text += " exit \(code)" }
        }
        if event == "success", let result = data["result"] as? [String: Any], let output = result["output"] as? String {
            let shown = output.hasSuffix("\n") ? String(output.dropLast()) : output
            text += "\n  output: " + shown.replacingOccurrences(of: "\n", with: "\n          ")
        }
        return text
    }
}
