import AMQP
import Foundation
import GolemJobs
import Logging
import Resilience
import Synchronization

/// The bridge's working parts for one run: journal, engine, publisher, and the jobs in flight.
///
/// It knows its surroundings only through ``JobJournal``, ``EventPublishing``, ``DeliveryAcknowledging``
/// and an injected clock, so unit tests run intake, resume, control and drain without a broker.
final class BridgeRuntime: Sendable {
    let configuration: BridgeConfiguration
    let names: ContractNames
    let source: String
    let journal: any JobJournal
    let engine: JobEngine
    let publisher: any EventPublishing
    /// Timers: the drain's grace, the janitor's hour, the pause after a journal failure.
    let clock: any Clock<Duration>
    /// Wall time, for what is journaled.
    let now: @Sendable () -> Date
    let logger: Logger
    let metrics: BridgeMetrics
    let gate: IntakeGate
    let limits: RequestLimits

    /// The jobs in flight, and whether the bridge is draining.
    let inFlight = InFlightJobs()
    /// The event pumps of launched jobs, for ``runPumps()`` to run.
    let pumps = AsyncStream.makeStream(of: (@Sendable () async -> Void).self)
    /// Confirmed events, recorded in the journal in batches.
    let marks: PublishedMarks
    /// Told every event once it is journaled (the dashboard); must return at once.
    let observer: JobEventObserver?
    /// Whether the journal answers: readiness, and no intake while it does not.
    let journalHealth: JournalHealth

    init(
        configuration: BridgeConfiguration, names: ContractNames, source: String, journal: any JobJournal,
        engine: JobEngine, publisher: any EventPublishing, clock: any Clock<Duration> = ContinuousClock(),
        now: @escaping @Sendable () -> Date = { Date() }, metrics: BridgeMetrics, observer: JobEventObserver? = nil, journalHealth: JournalHealth = JournalHealth(),
        logger: Logger
    ) {
        self.observer = observer
        self.configuration = configuration
        self.names = names
        self.source = source
        self.journal = journal
        self.engine = engine
        self.publisher = publisher
        self.clock = clock
        self.now = now
        self.logger = logger
        self.metrics = metrics
        self.journalHealth = journalHealth
        self.marks = PublishedMarks(journal: journal, clock: clock, logger: logger)
        self.gate = IntakeGate(permits: max(1, configuration.concurrency + configuration.backlog), clock: clock)
        var limits = RequestLimits()
        limits.maxBytes = configuration.maxRequestBytes
        self.limits = limits
    }

    // MARK: Jobs in flight

    /// Starts the job in the engine and hands its event pump to ``runPumps()``. The caller holds a
    /// gate permit; it is returned when the job has ended (or was suspended at shutdown). Once the
    /// bridge is draining, nothing starts: the job stays journaled for the next start to resume.
    func launch(jobId: String, spec: JobSpec, record: JobRecord, previousAttempts: Int, cancelReason: String??) async {
        var jobLogger = logger
        jobLogger[metadataKey: "job.id"] = "\(jobId)"
        guard inFlight.admit(jobId) else {
            jobLogger.info("bridge is draining: the job is left for the next start")
            gate.release()
            return
        }
        let job: Job
        do {
            job = try await engine.createJob(id: jobId, spec: spec, previousAttempts: previousAttempts)
        } catch {
            jobLogger.error("engine refused the job", metadata: ["error": "\(error)"])
            inFlight.remove(jobId)
            gate.release()
            return
        }
        let context = EventContext(
            jobId: jobId, labels: spec.labels, replyTo: record.replyTo,
            correlationId: record.correlationId ?? jobId,
            // A resumed job already told the world it was created.
            skipCreated: record.lastEvent != nil, createdAt: record.createdAt
        )
        pumps.continuation.yield { [jobLogger] in
            await self.pump(job, record: record, context: context, logger: jobLogger)
        }
        if let cancelReason {
            jobLogger.info("cancel arrived before the job: it will not run")
            job.cancel(reason: cancelReason ?? "canceled before the job arrived")
        }
        // Checked after the job is in the engine: a drain that began suspending before could have
        // missed it, so it is suspended here, before it started.
        if inFlight.phase >= .suspending {
            await engine.suspendAll()
            return
        }
        job.start()
    }

    /// Runs the event pump of every launched job as a child task, until cancelled (the service does so
    /// after the drain, when none is left) or until the drain abandons them (``InFlightJobs/abandon()``):
    /// one waiter for all pumps, not one per job.
    func runPumps() async {
        await withTaskGroup(of: Void.self) { parts in
            parts.addTask {
                await withDiscardingTaskGroup { group in
                    for await pump in self.pumps.stream {
                        group.addTask(operation: pump)
                    }
                }
            }
            parts.addTask { await self.inFlight.waitUntilAbandoned() }
            await parts.next()
            parts.cancelAll()
        }
    }

    /// Journals and publishes the job's events until it ended or was suspended, then returns its
    /// permit; stops early when the drain abandons the pumps (the journal keeps what was not sent).
    /// The events one step of the job emits together (`success` and `ended`, say) are journaled in
    /// one write, then published in order.
    private func pump(_ job: Job, record: JobRecord, context: EventContext, logger: Logger) async {
        defer {
            gate.release()
            inFlight.remove(job.id)
        }
        let batches = job.eventBatches
        // The job's sequence lives here: 1 for a new job, the journal's next one for a resumed job.
        var sequence = record.lastEvent == nil ? 1 : (try? await journal.nextSequence(jobId: job.id)) ?? 1
        while let batch = await batches.next() {
            let events = context.skipCreated ? batch.filter { $0.kind != .created } : batch
            guard !events.isEmpty else { continue }
            await emit(events, firstSequence: sequence, context: context, logger: logger)
            sequence += events.count
            if Task.isCancelled { return }
        }
    }

    /// Journals one event, publishes it (to the events exchange and the request's reply_to) until the
    /// broker confirms, then marks it published. See ``emit(_:firstSequence:context:logger:)``.
    func emit(_ event: JobEvent, sequence knownSequence: Int? = nil, context: EventContext, logger: Logger) async {
        await emit([event], firstSequence: knownSequence, context: context, logger: logger)
    }

    /// Journals events of one job (one write), publishes them in order (to the events exchange and
    /// the request's reply_to) until the broker confirms, then marks them published. If the bridge
    /// stops first, the next start republishes them with the same CloudEvent ids. A journal that
    /// fails is retried with backoff, with the same event ids (a write that landed but was not
    /// answered is not doubled), until it works or the bridge stops; events of a job another bridge
    /// took over are dropped (that bridge has them now). `firstSequence` `nil`: the journal's next.
    func emit(_ events: [JobEvent], firstSequence: Int?, context: EventContext, logger: Logger) async {
        guard let first = events.first else { return }
        var encoded: [(event: JobEvent, envelope: EventEnvelope, sequence: Int)] = []
        var pauses = Backoff(initial: .milliseconds(200), maximum: .seconds(5)).pauses()
        while true {
            do {
                if encoded.isEmpty {
                    let base: Int
                    if let firstSequence { base = firstSequence } else { base = try await journal.nextSequence(jobId: context.jobId) }
                    encoded = events.enumerated().map { offset, event in
                        let envelope = EventCodec.encode(
                            event, id: UUID().uuidString.lowercased(), sequence: base + offset, source: source, labels: context.labels
                        )
                        return (event, envelope, base + offset)
                    }
                }
                if encoded.count == 1 {
                    try await journal.append(event: first, envelope: encoded[0].envelope, sequence: encoded[0].sequence)
                } else {
                    try await journal.append(events: encoded)
                }
                journalHealth.answered()
                break
            } catch let lost as LeaseLost {
                logger.warning("events not journaled: \(lost)", metadata: ["event": "\(first.kind.rawValue)", "events": "\(events.count)"])
                return
            } catch {
                journalHealth.failed()
                if Task.isCancelled {
                    logger.critical("journal write failed; events not sent", metadata: ["event": "\(first.kind.rawValue)", "error": "\(error)"])
                    return
                }
                let pause = pauses.next()
                logger.error(
                    "journal write failed; retrying",
                    metadata: ["event": "\(first.kind.rawValue)", "error": "\(error)", "retry_in": "\(pause)"])
                try? await clock.sleep(for: pause)
            }
        }
        for (event, _, _) in encoded {
            observer?(event, context.labels)
            // Counted once journaled: the journal keeps a job to one outcome and one `ended`.
            if event.kind.isTerminalOutcome { metrics.jobEnded(event) }
            if event.kind == .ended, let createdAt = context.createdAt { metrics.jobDuration(from: createdAt, to: event.time) }
            logger.debug("event", metadata: ["event": "\(event.kind.rawValue)", "job.attempt": "\(event.attempt)"])
        }
        await deliver(encoded.map(\.envelope), replyTo: context.replyTo, correlationId: context.correlationId, logger: logger)
    }

    /// Publishes a journaled event until the broker confirms it, then marks it published (in the
    /// next batch of ``PublishedMarks``).
    func deliver(_ envelope: EventEnvelope, replyTo: String?, correlationId: String, logger: Logger) async {
        if await publishUntilConfirmed(envelope, replyTo: replyTo, correlationId: correlationId, logger: logger) {
            marks.add(envelope.id)
        }
    }

    /// Publishes journaled events of one job in order, each after the one before it is confirmed, then
    /// marks the confirmed ones published. An event's copies (the events exchange and the request's
    /// reply_to) go out together: one wake-up of the publisher's thread and one of this task per event.
    /// Events are not pipelined: the broker may nack one and confirm the next (a quorum queue losing its
    /// leader), and a consumer would then see `ended` before the outcome it ends. A failed event goes
    /// out again with retries, as ``deliver(_:replyTo:correlationId:logger:)`` sends it, before the next.
    func deliver(_ envelopes: [EventEnvelope], replyTo: String?, correlationId: String, logger: Logger) async {
        let reply = replyTo.flatMap { $0.isEmpty ? nil : $0 }
        guard let reply else {
            for envelope in envelopes { await deliver(envelope, replyTo: nil, correlationId: correlationId, logger: logger) }
            return
        }
        for envelope in envelopes {
            let properties = messageProperties(envelope, correlationId: correlationId)
            let messages = [
                OutgoingMessage(exchange: names.eventsExchange, routingKey: envelope.routingKey, body: envelope.body, properties: properties),
                OutgoingMessage(exchange: "", routingKey: reply, body: envelope.body, properties: properties),
            ]
            let sent = ContinuousClock.now
            let results = await publisher.publish(messages)
            var failed = false
            if case .failure = results[0] { failed = true }
            if case .failure(let error) = results[1] {
                if let error = error as? AMQPError, !error.isConnectionFatal {
                    // A reply queue that is gone is the client's business; the topic copy went out.
                    logger.warning("reply_to copy not delivered", metadata: ["reply_to": "\(reply)", "error": "\(error)"])
                } else {
                    failed = true
                }
            }
            if failed {
                await deliver(envelope, replyTo: replyTo, correlationId: correlationId, logger: logger)
                continue
            }
            metrics.eventPublished(kind: envelope.headers["job-event"] ?? "", confirmedAfter: ContinuousClock.now - sent)
            marks.add(envelope.id)
        }
    }

    /// The properties an event is published with.
    private func messageProperties(_ envelope: EventEnvelope, correlationId: String) -> MessageProperties {
        var properties = MessageProperties()
        properties.contentType = envelope.contentType
        properties.deliveryMode = .persistent
        properties.messageId = envelope.id
        properties.correlationId = correlationId
        properties.timestamp = now()
        properties.headers = envelope.headers.mapValues { FieldValue.string($0) }
        return properties
    }

    /// Publishes an event, retrying with backoff through broker outages. Returns false only when the
    /// task was cancelled (shutdown); the event then stays unpublished in the journal.
    func publishUntilConfirmed(_ envelope: EventEnvelope, replyTo: String?, correlationId: String, logger: Logger) async -> Bool {
        let properties = messageProperties(envelope, correlationId: correlationId)
        var pauses = Backoff(initial: .milliseconds(100), maximum: .seconds(5)).pauses()
        var eventsDone = false
        while !Task.isCancelled {
            do {
                if !eventsDone {
                    let sent = ContinuousClock.now
                    try await publisher.publish(
                        exchange: names.eventsExchange, routingKey: envelope.routingKey, body: envelope.body,
                        properties: properties
                    )
                    eventsDone = true
                    metrics.eventPublished(kind: envelope.headers["job-event"] ?? "", confirmedAfter: ContinuousClock.now - sent)
                }
                if let replyTo, !replyTo.isEmpty {
                    do {
                        try await publisher.publish(exchange: "", routingKey: replyTo, body: envelope.body, properties: properties)
                    } catch let error as AMQPError where !error.isConnectionFatal {
                        // A reply queue that is gone is the client's business; the topic copy went out.
                        logger.warning("reply_to copy not delivered", metadata: ["reply_to": "\(replyTo)", "error": "\(error)"])
                    }
                }
                return true
            } catch {
                let pause = pauses.next()
                logger.warning("event publish failed; retrying", metadata: ["error": "\(error)", "retry_in": "\(pause)"])
                try? await clock.sleep(for: pause)
            }
        }
        return false
    }

    /// The number of jobs this bridge holds (running or waiting for a slot).
    var jobsInFlight: Int { inFlight.count }

    /// Stops taking jobs: intake and resume get no more permits and nothing is launched. The first
    /// step of a graceful shutdown; ``drain(grace:)`` begins with it too.
    func beginDraining() {
        inFlight.beginDraining()
        gate.close()
    }

    /// Graceful shutdown: starts no more jobs, waits up to `grace` for the running ones to end, then
    /// suspends the rest (no outcome event; the next start resumes them), and waits briefly for their
    /// event tasks. Returns as soon as the last job ended, not at the next tick of a poll.
    func drain(grace: Duration) async {
        beginDraining()
        if await !allJobsEnded(within: grace) {
            inFlight.beginSuspending()
            logger.warning("grace period over: suspending jobs for the next start to resume", metadata: ["jobs": "\(jobsInFlight)"])
            let started = await engine.allJobs.filter { !$0.isFinished && $0.attempt > 0 }.map(\.id)
            do { try await journal.markSuspended(jobIds: started) } catch {
                logger.error("journal write failed: suspended jobs will count the attempt", metadata: ["error": "\(error)"])
            }
            await engine.suspendAll()
        }
        // Suspended jobs' pumps journal what came before and end; a broker that is gone would hold
        // their publishing, so after a bound they are abandoned (the journal keeps the events).
        if await !allJobsEnded(within: .seconds(5)) {
            inFlight.abandon()
            await inFlight.waitUntilEmpty()
        }
    }

    /// True once no job is in flight, false if `limit` passed first.
    private func allJobsEnded(within limit: Duration) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await self.inFlight.waitUntilEmpty()
                return true
            }
            group.addTask {
                try? await self.clock.sleep(for: limit)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    /// Prunes finished jobs past their retention, hourly.
    func janitor() async {
        while !Task.isCancelled {
            do {
                let cutoff = now().addingTimeInterval(-configuration.retention.seconds)
                let pruned = try await journal.prune(finishedBefore: cutoff)
                if pruned > 0 { logger.info("journal pruned", metadata: ["jobs": "\(pruned)"]) }
            } catch is CancellationError {
                return
            } catch {
                logger.error("journal prune failed", metadata: ["error": "\(error)"])
            }
            try? await clock.sleep(for: .seconds(3600))
        }
    }
}

/// What the event pump of one job needs besides the events.
struct EventContext: Sendable {
    var jobId: String
    var labels: [String: String]
    var replyTo: String?
    var correlationId: String
    var skipCreated: Bool
    /// When the job was accepted, for its duration; `nil` where it is not known.
    var createdAt: Date? = nil
}
