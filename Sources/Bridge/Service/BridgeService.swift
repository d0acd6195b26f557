import AMQP
import BlockingWork
import Foundation
import GolemJobs
import Logging
import ServiceLifecycle
import Synchronization

/// The bridge: job requests in from AMQP, through the Job engine, lifecycle events out.
///
/// Data flows one way: a delivery is decoded (``RequestCodec``), journaled, acknowledged, and handed to
/// the ``JobEngine``; every engine event is journaled, published with confirms, and marked published.
/// On SIGTERM/SIGINT the bridge stops taking requests, lets running jobs finish within
/// ``BridgeConfiguration/shutdownGrace``, then suspends the rest for the next start to resume.
/// It reports ``BridgeMetrics`` and, for a health check, ``isConsuming``.
public final class BridgeService: Service {
    let configuration: BridgeConfiguration
    let names: ContractNames
    let backend: any JobBackend
    let engineConfiguration: JobEngineConfiguration
    let logger: Logger
    let source: String
    let metrics: BridgeMetrics
    let observer: JobEventObserver?
    /// The consumer of the submit queue while `run()` runs.
    private let submitConsumer = Mutex<AMQPConsumer?>(nil)
    /// The publisher while `run()` runs, for ``requestCancel(jobId:reason:)``.
    private let controlPublisher = Mutex<AMQPPublisher?>(nil)

    public init(
        configuration: BridgeConfiguration,
        backend: any JobBackend,
        engineConfiguration: JobEngineConfiguration? = nil,
        metrics: BridgeMetrics = BridgeMetrics(),
        observer: JobEventObserver? = nil,
        logger: Logger
    ) {
        self.observer = observer
        self.configuration = configuration
        self.names = ContractNames(prefix: configuration.prefix)
        self.backend = backend
        var engine = engineConfiguration ?? JobEngineConfiguration()
        engine.concurrency = configuration.concurrency
        self.engineConfiguration = engine
        self.logger = logger
        self.source = "golem-bridge://\(configuration.instanceName)"
        self.metrics = metrics
    }

    /// True while the bridge takes job requests: its consumer of the submit queue is consuming (not
    /// before it connected, during a reconnect, or after shutdown began) and its journal answers.
    public var isConsuming: Bool {
        submitConsumer.withLock { $0?.isConsuming ?? false } && journalHealth.isAvailable
    }
    private let journalHealth = JournalHealth()

    /// The publisher of the current run, `nil` outside `run()`.
    var controlPublisherNow: AMQPPublisher? { controlPublisher.withLock { $0 } }

    public func run() async throws {
        let journal = try await openJournal()
        // The journal's own work (PostgreSQL's connection pool) runs around the whole service, so it
        // outlives the drain, which still journals.
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await journal.run() }
            defer { group.cancelAll() }
            try await journal.prepare()
            try await serve(journal: journal)
        }
    }

    /// `--journal`: a `postgres://` URL is the journal N bridges share; anything else a SQLite file.
    private func openJournal() async throws -> any JobJournal {
        let location = configuration.journalPath
        if configuration.journalIsShared {
            return try PostgresJournal(url: location, owner: configuration.instanceName, logger: logger)
        }
        // Opening SQLite (and migrating) blocks: on the blocking pool, like all file work.
        return try await BlockingIO.run { () throws -> Journal in try Journal(path: location) }
    }

    private func serve(journal: any JobJournal) async throws {
        let engine = JobEngine(
            configuration: engineConfiguration, backend: backend, metrics: metrics.engine, logger: logger
        )
        let metrics = metrics
        let consumerReconnected: @Sendable () -> Void = { metrics.amqpReconnected(role: "consumer") }
        // The exclusive cancel queue belongs to the connection that declares it: only its consumer does.
        let topology = names.topology
        var publisherLogger = logger
        publisherLogger[metadataKey: "amqp.role"] = "publisher"
        let publisher = AMQPPublisher(
            configuration: configuration.amqp, topology: topology, logger: publisherLogger,
            onReconnect: { metrics.amqpReconnected(role: "publisher") }
        )
        let submitConsumer = AMQPConsumer(
            configuration: configuration.amqp, topology: topology, queue: names.submitQueue,
            prefetch: UInt16(clamping: max(1, configuration.concurrency)), logger: logger,
            onReconnect: consumerReconnected
        )
        self.submitConsumer.withLock { $0 = submitConsumer }
        defer { self.submitConsumer.withLock { $0 = nil } }
        controlPublisher.withLock { $0 = publisher }
        defer { controlPublisher.withLock { $0 = nil } }
        let controlConsumer = AMQPConsumer(
            configuration: configuration.amqp, topology: names.controlTopology(instance: configuration.instanceName),
            queue: names.cancelQueue(instance: configuration.instanceName), prefetch: 64, exclusive: true,
            logger: logger, onReconnect: consumerReconnected
        )
        let statusConsumer = AMQPConsumer(
            configuration: configuration.amqp, topology: topology, queue: names.statusQueue, prefetch: 64,
            logger: logger, onReconnect: consumerReconnected
        )
        let runtime = BridgeRuntime(
            configuration: configuration, names: names, source: source, journal: journal, engine: engine,
            publisher: publisher, metrics: metrics, observer: observer, journalHealth: journalHealth, logger: logger
        )
        logger.info(
            "bridge starting",
            metadata: [
                "amqp.url": "\(configuration.amqp.redactedURL)", "instance": "\(configuration.instanceName)",
                "concurrency": "\(configuration.concurrency)", "journal": "\(configuration.redactedJournal)",
            ]
        )

        let intakeError: (any Error)? = await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await publisher.run() }
            group.addTask { try await submitConsumer.run() }
            group.addTask { try await controlConsumer.run() }
            group.addTask { try await statusConsumer.run() }
            group.addTask { await runtime.janitor() }
            group.addTask { await runtime.marks.run() }
            group.addTask { await runtime.runPumps() }
            group.addTask { await runtime.keepLeases() }
            group.addTask { await runtime.takeOverExpired() }

            group.addTask {
                for try await batch in controlConsumer.deliveries {
                    for delivery in batch {
                        await runtime.handleCancel(delivery)
                        controlConsumer.ack(delivery.deliveryTag)
                    }
                }
            }
            group.addTask {
                for try await batch in statusConsumer.deliveries {
                    for delivery in batch {
                        await runtime.handleStatus(delivery)
                        statusConsumer.ack(delivery.deliveryTag)
                    }
                }
            }

            // Events journaled by an earlier run but never confirmed go out first, with their ids;
            // then unfinished jobs resume (sharing slots with new requests) until draining begins.
            group.addTask {
                await runtime.republishUnpublished()
                await runtime.resumeUnfinished()
            }

            // Intake runs until graceful shutdown; then the bridge starts no more jobs, the consumer
            // is closed (its unacked requests go back to the queue), and running jobs get their grace
            // period.
            let intakeError: (any Error)? = await withGracefulShutdownHandler {
                await self.intake(runtime: runtime, submitConsumer: submitConsumer)
            } onGracefulShutdown: {
                self.logger.info("shutdown requested: no new requests; waiting for running jobs")
                runtime.beginDraining()
            }

            await runtime.drain(grace: configuration.shutdownGrace)
            await runtime.marks.flush()
            // Jobs the drain suspended go to the other bridges now, not after the lease.
            do { try await journal.releaseLeases() } catch {
                logger.warning("journal write failed: suspended jobs wait for their lease to expire", metadata: ["error": "\(error)"])
            }
            await controlConsumer.close()
            await statusConsumer.close()
            await publisher.close()
            group.cancelAll()
            // Consumers and the publisher return from run() once closed; cancellation errors are expected.
            while let result = await group.nextResult() {
                if case .failure(let error) = result, !(error is CancellationError) {
                    logger.debug("service task ended", metadata: ["error": "\(error)"])
                }
            }
            return intakeError
        }
        logger.info("bridge stopped")
        // Running jobs were drained or left to be resumed, as at a shutdown; the caller learns why
        // the bridge stopped on its own (a broker it never reached, say) and exits non-zero.
        if let intakeError {
            throw BridgeServiceError("the request consumer of \(names.submitQueue) stopped: \(intakeError)")
        }
    }
}

extension BridgeService {
    /// Takes requests from the submit queue until the runtime begins draining or the consumer fails
    /// (which begins the drain too). Returns the consumer's error, if any.
    fileprivate func intake(runtime: BridgeRuntime, submitConsumer: AMQPConsumer) async -> (any Error)? {
        await withTaskGroup(of: (any Error)?.self) { parts in
            parts.addTask {
                await runtime.inFlight.waitUntilDraining()
                await submitConsumer.close()
                return nil
            }
            parts.addTask {
                defer { runtime.beginDraining() }
                do {
                    // The requests of one read burst (at most the prefetch) are taken concurrently:
                    // each waits on the journal and the engine, and one at a time left the CPU idle.
                    for try await batch in submitConsumer.deliveries {
                        // One request (one job at a time) is taken here: a child task would be a hop for nothing.
                        if batch.count == 1, let delivery = batch.first {
                            await runtime.handleSubmit(delivery, consumer: submitConsumer)
                            continue
                        }
                        await withDiscardingTaskGroup { requests in
                            for delivery in batch {
                                requests.addTask { await runtime.handleSubmit(delivery, consumer: submitConsumer) }
                            }
                        }
                    }
                    return nil
                } catch {
                    self.logger.error("submit consumer failed", metadata: ["error": "\(error)"])
                    return error
                }
            }
            var intakeError: (any Error)?
            for await case let error? in parts { intakeError = error }
            return intakeError
        }
    }
}

/// Why the bridge service stopped without being asked to.
public struct BridgeServiceError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
