import AMQP
import Foundation
import GolemJobs
import Logging
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

    /// Per job in flight: the task that journals and publishes its events.
    let pumps = Mutex<[String: Task<Void, Never>]>([:])
    /// Confirmed events, recorded in the journal in batches.
    let marks: PublishedMarks

    init(
        configuration: BridgeConfiguration, names: ContractNames, source: String, journal: any JobJournal,
        engine: JobEngine, publisher: any EventPublishing, clock: any Clock<Duration> = ContinuousClock(),
        now: @escaping @Sendable () -> Date = { Date() }, metrics: BridgeMetrics, logger: Logger
    ) {
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
        self.marks = PublishedMarks(journal: journal, logger: logger)
        self.gate = IntakeGate(permits: max(1, configuration.concurrency + configuration.backlog))
        var limits = RequestLimits()
        limits.maxBytes = configuration.maxRequestBytes
        self.limits = limits
    }

    // MARK: Jobs in flight

    /// Starts the job in the engine and the task that carries its events out. The caller holds a gate
    /// permit; it is returned when the job has ended (or was suspended at shutdown).
    func launch(jobId: String, spec: JobSpec, record: JobRecord, previousAttempts: Int, cancelReason: String??) async {
        var jobLogger = logger
        jobLogger[metadataKey: "job.id"] = "\(jobId)"
        let job: Job
        do {
            job = try await engine.createJob(id: jobId, spec: spec, previousAttempts: previousAttempts)
        } catch {
            jobLogger.error("engine refused the job", metadata: ["error": "\(error)"])
            gate.release()
            return
        }
        let context = EventContext(
            jobId: jobId, labels: spec.labels, replyTo: record.replyTo,
            correlationId: record.correlationId ?? jobId,
            // A resumed job already told the world it was created.
            skipCreated: record.lastEvent != nil, createdAt: record.createdAt
        )
        let pump = Task {
            // The job's sequence lives here: 1 for a new job, the journal's next one for a resumed job.
            var sequence = record.lastEvent == nil ? 1 : (try? await self.journal.nextSequence(jobId: jobId)) ?? 1
            for await event in job.events {
                if event.kind == .created && context.skipCreated { continue }
                await self.emit(event, sequence: sequence, context: context, logger: jobLogger)
                sequence += 1
            }
            self.pumps.withLock { _ = $0.removeValue(forKey: jobId) }
            self.gate.release()
        }
        pumps.withLock { $0[jobId] = pump }
        if let cancelReason {
            jobLogger.info("cancel arrived before the job: it will not run")
            job.cancel(reason: cancelReason ?? "canceled before the job arrived")
        }
        job.start()
    }

    /// Journals one event, publishes it (to the events exchange and the request's reply_to) until the
    /// broker confirms, then marks it published. If the bridge stops first, the next start republishes
    /// it with the same CloudEvent id.
    func emit(_ event: JobEvent, sequence knownSequence: Int? = nil, context: EventContext, logger: Logger) async {
        let envelope: EventEnvelope
        do {
            let sequence: Int
            if let knownSequence { sequence = knownSequence } else { sequence = try await journal.nextSequence(jobId: context.jobId) }
            envelope = EventCodec.encode(
                event, id: UUID().uuidString.lowercased(), sequence: sequence, source: source, labels: context.labels
            )
            try await journal.append(event: event, envelope: envelope, sequence: sequence)
        } catch {
            logger.critical("journal write failed; event not sent", metadata: ["event": "\(event.kind.rawValue)", "error": "\(error)"])
            return
        }
        // Counted once journaled: the journal keeps a job to one outcome and one `ended`.
        if event.kind.isTerminalOutcome { metrics.jobEnded(event) }
        if event.kind == .ended, let createdAt = context.createdAt { metrics.jobDuration(from: createdAt, to: event.time) }
        logger.debug("event", metadata: ["event": "\(event.kind.rawValue)", "job.attempt": "\(event.attempt)"])
        if await publishUntilConfirmed(envelope, replyTo: context.replyTo, correlationId: context.correlationId, logger: logger) {
            marks.add(envelope.id)
        }
    }

    /// Publishes an event, retrying with backoff through broker outages. Returns false only when the
    /// task was cancelled (shutdown); the event then stays unpublished in the journal.
    func publishUntilConfirmed(_ envelope: EventEnvelope, replyTo: String?, correlationId: String, logger: Logger) async -> Bool {
        var properties = MessageProperties()
        properties.contentType = envelope.contentType
        properties.deliveryMode = .persistent
        properties.messageId = envelope.id
        properties.correlationId = correlationId
        properties.timestamp = now()
        properties.headers = envelope.headers.mapValues { FieldValue.string($0) }
        var delay = Duration.milliseconds(100)
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
                logger.warning("event publish failed; retrying", metadata: ["error": "\(error)", "retry_in": "\(delay)"])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
        return false
    }

    /// The number of jobs this bridge holds (running or waiting for a slot).
    var jobsInFlight: Int { pumps.withLock { $0.count } }

    /// Graceful shutdown: waits up to `grace` for running jobs to end, then suspends the rest (no
    /// outcome event; the next start resumes them), and waits briefly for their event tasks.
    func drain(grace: Duration) async {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: grace)
        while jobsInFlight > 0 && clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(100))
        }
        let left = jobsInFlight
        if left > 0 {
            logger.warning("grace period over: suspending jobs for the next start to resume", metadata: ["jobs": "\(left)"])
            let started = await engine.allJobs.filter { !$0.isFinished && $0.attempt > 0 }.map(\.id)
            do { try await journal.markSuspended(jobIds: started) } catch {
                logger.error("journal write failed: suspended jobs will count the attempt", metadata: ["error": "\(error)"])
            }
            await engine.suspendAll()
        }
        let tasks = pumps.withLock { Array($0.values) }
        let settle = Task {
            for task in tasks { await task.value }
        }
        let timeout = Task {
            try? await Task.sleep(for: .seconds(5))
            for task in tasks { task.cancel() }
        }
        await settle.value
        timeout.cancel()
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

extension Duration {
    /// This duration in seconds, as a `TimeInterval`.
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
