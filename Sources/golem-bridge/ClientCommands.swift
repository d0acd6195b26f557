import AMQP
import ArgumentParser
import Bridge
import Foundation

struct Submit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Submit a job request (JSON, as in docs/schemas/job-request.schema.json) and print its ID.",
        discussion: "With --watch, follow its events until `ended`; the exit status is 0 only if the job succeeded."
    )

    @Argument(help: "The request file, or - for standard input.")
    var file: String

    @Flag(help: "Follow the job's events until it ends.")
    var watch = false

    @OptionGroup var options: ClientOptions

    func run() async throws {
        let body: Data
        if file == "-" {
            body = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            do { body = try Data(contentsOf: URL(fileURLWithPath: file)) } catch {
                throw CLIError("cannot read \(file): \(error.localizedDescription)")
            }
        }
        // The job ID is the body's jobId, else the message_id we set: the same rule as the bridge's.
        var jobId = UUID().uuidString.lowercased()
        if let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any], let id = object["jobId"] as? String {
            jobId = id
        }
        let (amqp, names) = try options.resolve()
        let session = try await ClientSession(
            amqp: amqp, names: names, bindings: watch ? [names.eventRoutingKey(jobId: jobId, event: "*")] : []
        )
        var properties = MessageProperties()
        properties.contentType = "application/json"
        properties.deliveryMode = .persistent
        properties.messageId = jobId
        properties.timestamp = Date()
        do {
            try await session.publisher.publish(
                exchange: names.jobsExchange, routingKey: names.submitRoutingKey, body: [UInt8](body),
                properties: properties, mandatory: true
            )
        } catch {
            await session.close()
            throw CLIError("request not accepted by the broker (is a bridge running with prefix \(names.prefix)?): \(error)")
        }
        if options.json {
            print(#"{"jobId":"\#(jobId)"}"#)
        } else {
            print(jobId)
        }
        guard watch else {
            await session.close()
            return
        }
        let succeeded = try await follow(session: session, json: options.json)
        await session.close()
        if !succeeded { throw ExitCode(1) }
    }
}

/// Prints events until `ended`; returns whether the job succeeded.
func follow(session: ClientSession, json: Bool) async throws -> Bool {
    var succeeded = false
    var seen = Set<String>()
    for try await batch in session.consumer.deliveries {
        for delivery in batch {
            session.consumer.ack(delivery.deliveryTag)
            guard let event = try? EventCodec.decode(delivery.body) else { continue }
            // Delivery is at least once: drop repeats by CloudEvent id.
            if !seen.insert(event.id).inserted { continue }
            if json {
                print(String(decoding: delivery.body, as: UTF8.self))
            } else {
                print(event.line)
            }
            if event.event == .success { succeeded = true }
            if event.event == .ended { return succeeded }
        }
    }
    return succeeded
}

struct Watch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Follow a job's events until it ends.",
        discussion: "A job that has already ended prints its snapshot instead. Exit status 0 only if it succeeded."
    )

    @Argument(help: "The job ID.")
    var jobId: String

    @OptionGroup var options: ClientOptions

    func run() async throws {
        let (amqp, names) = try options.resolve()
        let session = try await ClientSession(
            amqp: amqp, names: names, bindings: [names.eventRoutingKey(jobId: jobId, event: "*")]
        )
        // Bound first, then asked: an end that happens between the two still arrives as an event.
        let snapshot = try await requestStatus(session: session, jobId: jobId, timeout: .seconds(5))
        if let state = snapshot?["state"] as? String, ["done", "rejected", "unknown"].contains(state) {
            printSnapshot(snapshot!, json: options.json)
            await session.close()
            if state != "done" { throw ExitCode(1) }
            return
        }
        let succeeded = try await follow(session: session, json: options.json)
        await session.close()
        if !succeeded { throw ExitCode(1) }
    }
}

struct Cancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Cancel a job: a queued job never runs, a running one is stopped, a finished one is unaffected."
    )

    @Argument(help: "The job ID.")
    var jobId: String

    @Option(help: "Why, echoed in the job's `canceled` event.")
    var reason: String?

    @OptionGroup var options: ClientOptions

    func run() async throws {
        let (amqp, names) = try options.resolve()
        let session = try await ClientSession(amqp: amqp, names: names, bindings: [])
        var body: [UInt8] = []
        if let reason {
            body = [UInt8](try JSONSerialization.data(withJSONObject: ["reason": reason]))
        }
        var properties = MessageProperties()
        properties.contentType = "application/json"
        do {
            try await session.publisher.publish(
                exchange: names.controlExchange, routingKey: "job.\(jobId).cancel", body: body, properties: properties
            )
        } catch {
            await session.close()
            throw CLIError("cancel not sent: \(error)")
        }
        await session.close()
        print(options.json ? #"{"jobId":"\#(jobId)","cancel":"sent"}"# : "cancel sent for \(jobId)")
    }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a job's snapshot: its state, attempt, last event, result or error.")

    @Argument(help: "The job ID.")
    var jobId: String

    @Option(help: "Seconds to wait for the bridge's answer.")
    var timeout: Double = 5

    @OptionGroup var options: ClientOptions

    func run() async throws {
        guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be positive and at most 3600 seconds") }
        let (amqp, names) = try options.resolve()
        let session = try await ClientSession(amqp: amqp, names: names, bindings: [])
        let snapshot = try await requestStatus(session: session, jobId: jobId, timeout: .milliseconds(Int64(timeout * 1000)))
        await session.close()
        guard let snapshot else {
            throw CLIError("no answer within \(timeout) s: is a bridge running?")
        }
        printSnapshot(snapshot, json: options.json)
    }
}

/// Asks for a job's snapshot; `nil` when no bridge answered in time.
func requestStatus(session: ClientSession, jobId: String, timeout: Duration) async throws -> [String: Any]? {
    let correlationId = UUID().uuidString.lowercased()
    var properties = MessageProperties()
    properties.replyTo = session.replyQueue
    properties.correlationId = correlationId
    try await session.publisher.publish(
        exchange: session.names.controlExchange, routingKey: "job.\(jobId).status", body: [], properties: properties
    )
    let reply = try await withThrowingTaskGroup(of: [UInt8]?.self) { group in
        group.addTask {
            for try await batch in session.consumer.deliveries {
                for delivery in batch {
                    guard delivery.properties.correlationId == correlationId else { continue }
                    session.consumer.ack(delivery.deliveryTag)
                    return delivery.body
                }
            }
            return nil
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        let first = try await group.next() ?? nil
        group.cancelAll()
        return first
    }
    guard let reply else { return nil }
    return try JSONSerialization.jsonObject(with: Data(reply)) as? [String: Any]
}

func printSnapshot(_ snapshot: [String: Any], json: Bool) {
    if json, let data = try? JSONSerialization.data(withJSONObject: snapshot, options: [.sortedKeys]) {
        print(String(decoding: data, as: UTF8.self))
        return
    }
    var lines = ["job     \(snapshot["jobId"] ?? "?")", "state   \(snapshot["state"] ?? "?")"]
    if let attempt = snapshot["attempt"] { lines.append("attempt \(attempt)") }
    if let last = snapshot["lastEvent"] { lines.append("last    \(last)") }
    if let updated = snapshot["updatedAt"] { lines.append("updated \(updated)") }
    if let error = snapshot["error"] as? [String: Any] {
        lines.append("error   \(error["code"] ?? "?"): \(error["message"] ?? "")")
    }
    if let result = snapshot["result"] as? [String: Any], let output = result["output"] as? String {
        let shown = output.hasSuffix("\n") ? String(output.dropLast()) : output
        lines.append("output  " + shown.replacingOccurrences(of: "\n", with: "\n        "))
    }
    print(lines.joined(separator: "\n"))
}
