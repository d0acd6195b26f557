import AMQP
import ArgumentParser
import Bridge
import Foundation
import JSONModel

struct Submit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Submit a job request (JSON, as in docs/schemas/job-request.schema.json) and print its ID.",
        discussion: """
            With --watch, follow its events until `ended`; the exit status is 0 only if the job succeeded. \
            A job ID the bridge already ran is not run again: --watch prints that job's snapshot instead.
            """
    )

    @Argument(help: "The request file, or - for standard input.")
    var file: String

    @Flag(help: "Follow the job's events until it ends.")
    var watch = false

    @OptionGroup var options: ClientOptions

    func run() async throws {
        // Read before any session starts: this one blocking read has nothing to hold up.
        let body: [UInt8]
        if file == "-" {
            body = [UInt8](FileHandle.standardInput.readDataToEndOfFile())
        } else {
            do { body = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file))) } catch {
                throw CLIError("cannot read \(file): \(error.localizedDescription)")
            }
        }
        let jobId = try Self.jobId(of: body, messageId: UUID().uuidString.lowercased())
        let (amqp, names) = try await options.resolve()
        let session = try await ClientSession(
            amqp: amqp, names: names, bindings: watch ? [names.eventRoutingKey(jobId: jobId, event: "*")] : []
        )
        if watch {
            // A job ID is idempotent: a job that has already ended is not run again and sends no more
            // events, so print what it ended with instead of waiting for events that never come.
            // (Bound first, then asked, as `watch` does.)
            let snapshot = try await requestStatus(session: session, jobId: jobId, timeout: .seconds(5))
            if let snapshot, ["done", "rejected"].contains(snapshot.state) {
                await session.close()
                FileHandle.standardError.write(Data("job \(jobId) already exists and has ended; it is not run again\n".utf8))
                printSnapshot(snapshot, json: options.json)
                if snapshot.state != "done" { throw ExitCode(1) }
                return
            }
        }
        var properties = MessageProperties()
        properties.contentType = "application/json"
        properties.deliveryMode = .persistent
        properties.messageId = jobId
        properties.timestamp = Date()
        do {
            try await session.publisher.publish(
                exchange: names.jobsExchange, routingKey: names.submitRoutingKey, body: body,
                properties: properties, mandatory: true
            )
        } catch {
            await session.close()
            throw CLIError("request not accepted by the broker (is a bridge running with prefix \(names.prefix)?): \(error)")
        }
        print(options.json ? JSONValue.object([JSONMember("jobId", .string(jobId))]).text : jobId)
        fflush(nil)
        guard watch else {
            await session.close()
            return
        }
        let succeeded = try await follow(session: session, json: options.json)
        await session.close()
        if !succeeded { throw ExitCode(1) }
    }
}

extension Submit {
    /// The ID the bridge will give the job, by the bridge's own codec: the body's `jobId`, else
    /// `messageId` (which the request is sent with). A request the bridge would refuse is refused
    /// here with the bridge's reason, and never sent; its size alone is left to the bridge, whose
    /// limit is its own setting.
    static func jobId(of body: [UInt8], messageId: String) throws -> String {
        var limits = RequestLimits()
        limits.maxBytes = .max
        do {
            return try RequestCodec.decode(body, messageId: messageId, limits: limits).jobId ?? messageId
        } catch {
            throw CLIError("the request is not valid (\(error.reason.rawValue)): \(error.message)")
        }
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
            // Each step's progress as it happens, also through a pipe (where stdout is block-buffered).
            fflush(nil)
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

    func validate() throws { try validateJobId(jobId) }

    func run() async throws {
        let (amqp, names) = try await options.resolve()
        let session = try await ClientSession(
            amqp: amqp, names: names, bindings: [names.eventRoutingKey(jobId: jobId, event: "*")]
        )
        // Bound first, then asked: an end that happens between the two still arrives as an event.
        let snapshot = try await requestStatus(session: session, jobId: jobId, timeout: .seconds(5))
        if let snapshot, ["done", "rejected", "unknown"].contains(snapshot.state) {
            printSnapshot(snapshot, json: options.json)
            await session.close()
            if snapshot.state != "done" { throw ExitCode(1) }
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

    func validate() throws { try validateJobId(jobId) }

    func run() async throws {
        let (amqp, names) = try await options.resolve()
        let session = try await ClientSession(amqp: amqp, names: names, bindings: [])
        let body = ControlCodec.cancelBody(reason: reason)
        var properties = MessageProperties()
        properties.contentType = "application/json"
        do {
            // Mandatory: cancels reach only running bridges, so a return means that none heard it.
            try await session.publisher.publish(
                exchange: names.controlExchange, routingKey: ControlCodec.routingKey(jobId: jobId, action: .cancel), body: body,
                properties: properties, mandatory: true
            )
        } catch let error as AMQPError where error.isReturned {
            await session.close()
            throw CLIError("cancel not delivered: no bridge with prefix \(names.prefix) is running; send it again when one runs")
        } catch {
            await session.close()
            throw CLIError("cancel not sent: \(error)")
        }
        await session.close()
        print(options.json
            ? JSONValue.object([JSONMember("jobId", .string(jobId)), JSONMember("cancel", .string("sent"))]).text
            : "cancel sent for \(jobId)")
    }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a job's snapshot: its state, attempt, last event, result or error.",
        discussion: """
            Exit status: 0 the bridge knows the job (whatever its state: the snapshot says it); 1 the job is \
            `unknown` (never accepted, or past --retention-hours); 2 no answer (the broker is unreachable, or \
            no bridge answered within --timeout); 64 a bad argument.
            """
    )

    @Argument(help: "The job ID.")
    var jobId: String

    @Option(help: "Seconds to wait for the bridge's answer.")
    var timeout: Double = 5

    @OptionGroup var options: ClientOptions

    func validate() throws {
        try validateJobId(jobId)
        guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be positive and at most 3600 seconds") }
    }

    /// An unknown job and no answer at all are different failures: a script tells them apart by status.
    static let unknownJob = ExitCode(1)
    static let noAnswer = ExitCode(2)

    func run() async throws {
        let (amqp, names) = try await options.resolve()
        // No broker, no topology (no bridge ever ran with this prefix), or no bridge answering: exit 2.
        func noAnswer(_ why: String) -> ExitCode {
            FileHandle.standardError.write(Data("Error: \(why)\n".utf8))
            return Self.noAnswer
        }
        let session: ClientSession
        do { session = try await ClientSession(amqp: amqp, names: names, bindings: []) } catch { throw noAnswer("\(error)") }
        let reply: JobSnapshot?
        do {
            reply = try await requestStatus(session: session, jobId: jobId, timeout: .milliseconds(Int64(timeout * 1000)))
        } catch {
            await session.close()
            throw noAnswer("\(error)")
        }
        await session.close()
        guard let snapshot = reply else { throw noAnswer("no answer within \(timeout) s: is a bridge running?") }
        printSnapshot(snapshot, json: options.json)
        if snapshot.state == "unknown" { throw Self.unknownJob }
    }
}

/// Refuses what cannot be a job ID (it would not even make a routing key), before anything is sent.
func validateJobId(_ jobId: String) throws {
    guard RequestCodec.isValidJobId(jobId) else {
        throw ValidationError("\(jobId) is not a job ID: 1 to 128 characters from A-Z a-z 0-9 _ : - (no dot)")
    }
}

/// Asks for a job's snapshot; `nil` when no bridge answered in time.
func requestStatus(session: ClientSession, jobId: String, timeout: Duration) async throws -> JobSnapshot? {
    let correlationId = UUID().uuidString.lowercased()
    var properties = MessageProperties()
    properties.replyTo = session.replyQueue
    properties.correlationId = correlationId
    try await session.publisher.publish(
        exchange: session.names.controlExchange, routingKey: ControlCodec.routingKey(jobId: jobId, action: .status),
        body: [], properties: properties
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
    guard let snapshot = JobSnapshot.decode(reply) else {
        throw CLIError("the bridge's reply is not a job snapshot: \(String(decoding: reply.prefix(200), as: UTF8.self))")
    }
    return snapshot
}

func printSnapshot(_ snapshot: JobSnapshot, json: Bool) {
    if json {
        print(String(decoding: snapshot.encoded(), as: UTF8.self))
        return
    }
    var lines = ["job     \(snapshot.jobId)", "state   \(snapshot.state)"]
    if let attempt = snapshot.attempt { lines.append("attempt \(attempt)") }
    if let last = snapshot.lastEvent { lines.append("last    \(last)") }
    if let updated = snapshot.updatedAt { lines.append("updated \(Timestamp.string(updated))") }
    if let error = snapshot.error {
        lines.append("error   \(error["code"]?.string ?? "?"): \(error["message"]?.string ?? "")")
    }
    if let output = snapshot.result?["output"]?.string {
        let shown = output.hasSuffix("\n") ? String(output.dropLast()) : output
        lines.append("output  " + shown.replacingOccurrences(of: "\n", with: "\n        "))
    }
    print(lines.joined(separator: "\n"))
}

extension AMQPError {
    /// A mandatory publish that the broker could not route anywhere.
    var isReturned: Bool {
        if case .returned = kind { return true }
        return false
    }
}

extension JSONValue {
    /// The compact JSON text, for printing.
    var text: String { String(decoding: encoded(), as: UTF8.self) }
}
