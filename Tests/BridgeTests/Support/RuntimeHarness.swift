import AMQP
import Foundation
import GolemJobs
import Logging
@testable import Bridge

/// A ``BridgeRuntime`` with nothing running around it: a real SQLite journal in a temporary
/// directory, a real ``JobEngine`` on a ``HoldingBackend``, an in-memory publisher and acknowledger.
final class RuntimeHarness: Sendable {
    let directory: URL
    let journal: Journal
    let backend = HoldingBackend()
    let publisher = RecordingPublisher()
    let acks = RecordingAcknowledger()
    let engine: JobEngine
    let runtime: BridgeRuntime
    let names = ContractNames(prefix: "golem")
    /// What the service's task group does: runs the jobs' event pumps.
    private let pumps: Task<Void, Never>

    /// - Parameters:
    ///   - journal: what the runtime sees of the journal (a failing wrapper, say).
    ///   - clock: the runtime's timers.
    init(
        concurrency: Int = 1, backlog: Int = 0, clock: any Clock<Duration> = ContinuousClock(),
        journal wrap: (Journal) -> any JobJournal = { $0 }, observer: JobEventObserver? = nil
    ) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("bridge-runtime-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("journal.sqlite").path
        journal = try Journal(path: path)
        let logger = Logger(label: "bridge-runtime-tests", factory: { _ in SwiftLogNoOpLogHandler() })
        let configuration = BridgeConfiguration(
            amqp: try AMQPConfiguration(url: "amqp://guest:guest@127.0.0.1:5672/"), instanceName: "test",
            concurrency: concurrency, backlog: backlog, journalPath: path, intakeWait: .seconds(3600)
        )
        engine = JobEngine(configuration: JobEngineConfiguration(concurrency: concurrency), backend: backend, logger: logger)
        runtime = BridgeRuntime(
            configuration: configuration, names: names, source: "golem-bridge://test", journal: wrap(journal),
            engine: engine, publisher: publisher, clock: clock, metrics: BridgeMetrics(), observer: observer, logger: logger
        )
        pumps = Task { [runtime] in await runtime.runPumps() }
    }

    deinit {
        pumps.cancel()
        try? FileManager.default.removeItem(at: directory)
    }

    /// A valid request for `jobId` with one `run` step.
    static func request(_ jobId: String) -> [UInt8] {
        Array(#"{"jobId":"\#(jobId)","work":[{"run":"true"}]}"#.utf8)
    }

    static func delivery(
        _ tag: UInt64, _ body: [UInt8], routingKey: String = "submit", replyTo: String? = nil,
        correlationId: String? = nil, messageId: String? = nil
    ) -> Delivery {
        Delivery(
            deliveryTag: tag, redelivered: false, exchange: "golem.jobs", routingKey: routingKey, body: body,
            properties: MessageProperties(correlationId: correlationId, replyTo: replyTo, messageId: messageId)
        )
    }

    /// Journals `jobId` as accepted, as a request that arrived in an earlier run.
    func acceptEarlier(_ jobId: String) async throws {
        _ = try await journal.accept(jobId: jobId, request: Self.request(jobId), replyTo: nil, correlationId: nil, now: Date())
    }

    /// Journals an event of `jobId` as an earlier run did (id `<jobId>-<sequence>`), unpublished.
    func journalEarlier(_ jobId: String, _ kind: JobEvent.Kind, state: JobState, attempt: Int) async throws {
        let event = JobEvent(jobId: jobId, kind: kind, state: state, attempt: attempt, time: Date())
        let sequence = try await journal.nextSequence(jobId: jobId)
        let envelope = EventCodec.encode(event, id: "\(jobId)-\(sequence)", sequence: sequence, source: "earlier", labels: [:])
        try await journal.append(event: event, envelope: envelope, sequence: sequence)
    }

    /// Submits `body` as delivery `tag`.
    func submit(_ tag: UInt64, _ body: [UInt8], replyTo: String? = nil, correlationId: String? = nil) async {
        await runtime.handleSubmit(Self.delivery(tag, body, replyTo: replyTo, correlationId: correlationId), consumer: acks)
    }

    /// Lets the running step of `jobId` succeed once it runs, and waits until every job in flight
    /// ended and its events went out.
    func finishWhenRunning(_ jobId: String) async {
        await backend.waitUntilRunning(jobId)
        backend.finish(jobId)
        await waitForJobsToEnd()
    }

    /// Waits until every job in flight ended and its events went out.
    func waitForJobsToEnd() async { await runtime.inFlight.waitUntilEmpty() }

    /// Writes what the publish path confirmed into the journal.
    func flushMarks() async { await runtime.marks.flush() }

    /// A published event as a consumer sees it.
    struct Event: Equatable {
        var kind: String
        var id: String
        var sequence: Int
        var attempt: Int
        var errorCode: String?
    }

    /// The events published for `jobId` to the events exchange, in order.
    func events(of jobId: String) -> [Event] {
        publisher.messages(to: names.eventsExchange).filter { $0.routingKey.hasPrefix("job.\(jobId).") }.map(Self.event)
    }

    /// The copies of events sent to a `reply_to` queue, in order.
    func replies(to queue: String) -> [RecordingPublisher.Message] {
        publisher.messages(to: "").filter { $0.routingKey == queue }
    }

    static func event(_ message: RecordingPublisher.Message) -> Event {
        let object = json(message.body)
        let data = object["data"] as? [String: Any] ?? [:]
        let error = data["error"] as? [String: Any]
        return Event(
            kind: data["event"] as? String ?? "?", id: object["id"] as? String ?? "?",
            sequence: Int(object["sequence"] as? String ?? "") ?? -1, attempt: data["attempt"] as? Int ?? -1,
            errorCode: error?["code"] as? String
        )
    }

    static func json(_ body: [UInt8]) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
    }
}
