import AMQP
import ArgumentParser
import BlockingWork
import Bridge
import BridgeSettings
import CoreMetrics
import Foundation
import GolemBackend
import GolemJobs
import LocalBackend
import Logging
import MetricsEndpoint
import Prometheus
import ServiceLifecycle

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the bridge: consume job requests, run them, publish their events.",
        discussion: """
            Declares the contract's topology (idempotently), then serves until SIGTERM or SIGINT. On \
            shutdown it stops taking requests, lets running jobs finish within --shutdown-grace, then \
            stops the rest and leaves them in the journal for the next start to resume; it exits 0.
            """
    )

    /// The table every option below comes from: name, help, environment, config-file key, default, bounds.
    static let settings = ServeSettings()

    @Option(Serve.settings.amqpURL) var amqpURL: String?
    @Option(Serve.settings.backend) var backend: String?
    @Option(Serve.settings.journal) var journal: String?
    @Option(Serve.settings.concurrency) var concurrency: String?
    @Option(Serve.settings.backlog) var backlog: String?
    @Option(Serve.settings.prefix) var prefix: String?
    @Option(Serve.settings.instanceName) var instanceName: String?
    @Option(Serve.settings.shutdownGrace) var shutdownGrace: String?
    @Option(Serve.settings.retentionHours) var retentionHours: String?
    @Option(Serve.settings.maxRequestBytes) var maxRequestBytes: String?
    @Option(Serve.settings.workRoot) var workRoot: String?
    @Option(Serve.settings.logLevel) var logLevel: String?
    @Option(Serve.settings.metricsAddress) var metricsAddress: String?

    @OptionGroup(title: "Golem backend")
    var golem: GolemOptions

    @Option(Serve.settings.config) var config: String?

    /// What `serve` resolved from its flags, the environment and the config file, before anything starts.
    struct Resolved {
        var logLevel: Logger.Level
        var bridge: BridgeConfiguration
        var backend: Backend
        /// The local backend's work root.
        var workRoot: String
        /// Only with `--backend golem`: its settings are checked only when they are used.
        var golem: GolemBackendConfiguration?
        var metricsAddress: MetricsAddress?
    }

    /// Resolves every setting, so that a typo is refused before anything starts.
    func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Resolved {
        let table = Self.settings
        let sources = try SettingSources.load(configFlag: config, environment: environment)
        try sources.file?.rejectUnknownKeys(known: table.fileKeys.union(GolemOptions.settings.fileKeys))

        var amqp = try sources.value(table.amqpURL, flag: amqpURL) { try AMQPConfiguration(url: $0) }
        let concurrency = try sources.value(table.concurrency, flag: concurrency) ?? ProcessInfo.processInfo.activeProcessorCount
        let instance = try sources.value(table.instanceName, flag: instanceName) ?? BridgeConfiguration.defaultInstanceName()
        amqp.connectionName = "golem-bridge \(instance)"
        let bridge = BridgeConfiguration(
            amqp: amqp,
            prefix: try sources.value(table.prefix, flag: prefix),
            instanceName: instance,
            concurrency: concurrency,
            backlog: try sources.value(table.backlog, flag: backlog) ?? concurrency,
            journalPath: try sources.value(table.journal, flag: journal),
            shutdownGrace: .seconds(try sources.value(table.shutdownGrace, flag: shutdownGrace)),
            retention: .seconds(try sources.value(table.retentionHours, flag: retentionHours) * 3600),
            maxRequestBytes: try sources.value(table.maxRequestBytes, flag: maxRequestBytes)
        )
        let backend = try sources.value(table.backend, flag: backend)
        return Resolved(
            logLevel: try sources.value(table.logLevel, flag: logLevel),
            bridge: bridge,
            backend: backend,
            workRoot: try sources.value(table.workRoot, flag: workRoot)
                ?? (environment["TMPDIR"] ?? "/tmp") + "/golem-bridge-work",
            golem: backend == .golem
                ? try golem.configuration(
                    sources: sources, concurrency: concurrency,
                    // The rentals are this bridge's own: beside a shared journal, a file named after it.
                    journalPath: bridge.journalIsShared ? "golem-bridge-\(instance).sqlite" : bridge.journalPath)
                : nil,
            metricsAddress: try sources.value(table.metricsAddress, flag: metricsAddress) { try $0.map(MetricsAddress.init(parsing:)) }
        )
    }

    func run() async throws {
        let resolved = try await resolvingSettings { [self] in try resolve() }
        let level = resolved.logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "golem-bridge")
        let configuration = resolved.bridge
        let metricsAt = resolved.metricsAddress

        // Without an address the metrics stay swift-metrics' no-op default: nothing is kept.
        let registry = PrometheusCollectorRegistry()
        if metricsAt != nil { MetricsSystem.bootstrap(Self.metricsFactory(registry: registry)) }

        let jobBackend: any JobBackend
        var backendServices: [ServiceGroupConfiguration.ServiceConfiguration] = []
        switch resolved.golem {
        case nil:
            let local = LocalBackend(configuration: LocalBackendConfiguration(workRoot: resolved.workRoot), logger: logger)
            do { try await local.preflight() } catch { throw CLIError("local backend: \(error)") }
            jobBackend = local
        case let golemConfiguration?:
            let store: SQLiteRentalStore
            do {
                // Opening SQLite (and migrating) blocks: on the blocking pool.
                store = try await BlockingIO.run { () throws -> SQLiteRentalStore in try SQLiteRentalStore(path: golemConfiguration.statePath) }
            } catch {
                throw CLIError("golem backend: cannot open its state file \(golemConfiguration.statePath): \(error)")
            }
            let golemBackend = GolemBackend(configuration: golemConfiguration, store: store, logger: logger)
            logger.info("golem backend", metadata: ["configuration": "\(golemConfiguration)"])
            jobBackend = golemBackend
            // Before the bridge: services stop in reverse order, so jobs drain before rentals end.
            backendServices.append(.init(service: GolemBackendService(backend: golemBackend)))
        }

        let bridge = BridgeService(configuration: configuration, backend: jobBackend, metrics: BridgeMetrics(), logger: logger)
        var services = backendServices + [.init(service: bridge)]
        if let metricsAt {
            let endpoint = MetricsEndpoint(
                address: metricsAt, registry: registry, isHealthy: { bridge.isConsuming }, logger: logger
            )
            // The endpoint first, so it stops last (scrapes see the drain to its end); the rest start
            // once it listens, so a taken port stops the bridge before it takes a request.
            services = [.init(service: endpoint)] + services.map { configured in
                var waiting = configured
                waiting.service = AfterListening(endpoint, configured.service)
                return waiting
            }
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
    }

    /// Prometheus behind swift-metrics, with histogram buckets that fit what the bridge times: jobs
    /// (seconds to an hour) and publish confirms (milliseconds).
    static func metricsFactory(registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets[BridgeMetrics.prefix + "job_duration_seconds"] = [
            .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10), .seconds(30),
            .seconds(60), .seconds(120), .seconds(300), .seconds(600), .seconds(1800), .seconds(3600),
        ]
        factory.durationHistogramBuckets[BridgeMetrics.prefix + "event_publish_confirm_seconds"] = [
            .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
        ]
        return factory
    }
}

/// Runs `service` once the metrics endpoint listens; fails with the endpoint's start error if it cannot.
struct AfterListening: Service {
    let endpoint: MetricsEndpoint
    let service: any Service

    init(_ endpoint: MetricsEndpoint, _ service: any Service) {
        self.endpoint = endpoint
        self.service = service
    }

    func run() async throws {
        try await endpoint.waitUntilListening()
        try await service.run()
    }
}
