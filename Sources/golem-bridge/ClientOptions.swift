import AMQP
import ArgumentParser
import Bridge
import BridgeSettings
import Foundation
import Logging

/// Options every client command shares (``ClientSettings``: `serve`'s broker and prefix).
struct ClientOptions: ParsableArguments {
    static let settings = ClientSettings()

    @Option(ClientOptions.settings.amqpURL) var amqpURL: String?
    @Option(ClientOptions.settings.prefix) var prefix: String?

    @Flag(help: "Print JSON (one document per line) instead of text.")
    var json = false

    /// The broker and the contract's names, from the flags, the environment and the config file named
    /// by `GOLEM_BRIDGE_CONFIG` (whose other keys, `serve`'s, it ignores).
    func resolve() async throws -> (AMQPConfiguration, ContractNames) {
        let table = Self.settings
        let (amqpURL, prefix) = (amqpURL, prefix)
        return try await resolvingSettings {
            let sources = try SettingSources.load(configFlag: nil)
            var amqp = try sources.value(table.amqpURL, flag: amqpURL) { try AMQPConfiguration(url: $0) }
            amqp.connectionName = "golem-bridge cli"
            amqp.connectTimeout = .seconds(5)
            return (amqp, ContractNames(prefix: try sources.value(table.prefix, flag: prefix)))
        }
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

extension DecodedEvent {
    /// One line for people: time, job, event, state, attempt, provider, and what the event carries.
    var line: String {
        let shortTime = String(time.dropFirst(11).prefix(12))
        var text = "\(shortTime)  \(jobId)  \(event.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) \(state)"
        if attempt > 0 { text += "  attempt \(attempt)" }
        if let name = data["provider"]?["name"]?.string { text += "  on \(name)" }
        if let errorCode { text += "  \(errorCode): \(errorMessage ?? "")" }
        if event == .progress, let step = data["step"] {
            text += "  step \(step["index"]?.int ?? -1) \(step["kind"]?.string ?? "")"
            if let code = step["exitCode"]?.int { text += " exit \(code)" }
            // What the step printed, under its line, as it ends (a run step's; others carry none).
            for stream in ["stdout", "stderr"] {
                if let printed = step[stream]?.string, !printed.isEmpty { text += Self.indented(stream, printed) }
            }
        }
        if event == .progress, let piece = data["output"], let stream = piece["stream"]?.string {
            // A streaming step's output while it runs (`"stream": true`).
            text += "  step \(piece["step"]?.int ?? -1) running"
            if let printed = piece["text"]?.string, !printed.isEmpty { text += Self.indented(stream, printed) }
            if piece["truncated"]?.bool == true { text += "\n  (\(stream) cut at the output limit)" }
        }
        if event == .success, let output { text += Self.indented("output", output) }
        return text
    }

    /// `text` on lines of its own under the event's, after `name:`, aligned.
    private static func indented(_ name: String, _ text: String) -> String {
        let shown = text.hasSuffix("\n") ? String(text.dropLast()) : text
        let margin = "\n" + String(repeating: " ", count: name.count + 4)
        return "\n  \(name): " + shown.replacingOccurrences(of: "\n", with: margin)
    }
}
