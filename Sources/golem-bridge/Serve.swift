import AMQP
import ArgumentParser
import BlockingWork
import Bridge
import BridgeSettings
import CoreMetrics
import Dashboard
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
    @Option(Serve.settings.logFormat) var logFormat: String?
    @Option(Serve.settings.logLevel) var logLevel: String?
    @Option(Serve.settings.httpAddress) var httpAddress: String?
    @Option(Serve.settings.metricsAddress) var metricsAddress: String?
    @Option(Serve.settings.dashboardToken) var dashboardToken: String?
    @Option(Serve.settings.dashboardTokenFile) var dashboardTokenFile: String?

    @OptionGroup(title: "Golem backend")
    var golem: GolemOptions

    @Option(Serve.settings.config) var config: String?

    /// What `serve` resolved from its flags, the environment and the config file, before anything starts.
    struct Resolved {
        var logLevel: Logger.Level
        var logFormat: LogFormat
        var bridge: BridgeConfiguration
        var backend: Backend
        /// The local backend's work root.
        var workRoot: String
        /// Only with `--backend golem`: its settings are checked only when they are used.
        var golem: GolemBackendConfiguration?
        /// The HTTP endpoint's address (`--http-address`, or its old name `--metrics-address`).
        var httpAddress: MetricsAddress?
        /// Enables the dashboard's cancel; never logged.
        var dashboardToken: DashboardToken?
        /// Warnings to log once logging is set up (a deprecated name was used).
        var warnings: [String] = []
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
        var warnings: [String] = []
        let parse = { (text: String?) throws -> MetricsAddress? in try text.map(MetricsAddress.init(parsing:)) }
        var httpAddress = try sources.value(table.httpAddress, flag: httpAddress, as: parse)
        if let old = try sources.value(table.metricsAddress, flag: metricsAddress, as: parse),
           let source = sources.text(for: table.metricsAddress, flag: metricsAddress)?.source {
            warnings.append("--metrics-address is deprecated: use --http-address (env GOLEM_BRIDGE_HTTP_ADDRESS, \"http-address\" in the config file)\(source)")
            httpAddress = httpAddress ?? old
        }
        return Resolved(
            logLevel: try sources.value(table.logLevel, flag: logLevel),
            logFormat: try sources.value(table.logFormat, flag: logFormat),
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
            httpAddress: httpAddress,
            dashboardToken: try Self.dashboardToken(sources: sources, flag: dashboardToken, fileFlag: dashboardTokenFile),
            warnings: warnings
        )
    }

    func run() async throws {
        let resolved = try await resolvingSettings { [self] in try resolve() }
        LogOutput.bootstrap(level: resolved.logLevel, format: resolved.logFormat)
        let logger = Logger(label: "golem-bridge")
        for warning in resolved.warnings { logger.warning("\(warning)") }
        let configuration = resolved.bridge
        let metricsAt = resolved.httpAddress

        // Without an address the metrics stay swift-metrics' no-op default: nothing is kept.
        let registry = PrometheusCollectorRegistry()
        if metricsAt != nil { MetricsSystem.bootstrap(Self.metricsFactory(registry: registry)) }

        let jobBackend: any JobBackend
        var panel: (@Sendable () -> BackendPanel?)?
        var backendServices: [ServiceGroupConfiguration.ServiceConfiguration] = []
        switch resolved.golem {
        case nil:
            // One warm sandbox per job that may run at once, up to 64 (beyond, jobs run in fresh ones:
            // 1,000 `sleep` jobs in flight must not keep 1,000 sandboxes).
            let local = LocalBackend(
                configuration: LocalBackendConfiguration(workRoot: resolved.workRoot, warmSandboxes: min(configuration.concurrency, 64)), logger: logger
            )
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
            panel = { Self.panel(golemBackend.poolSnapshot()) }
            // Before the bridge: services stop in reverse order, so jobs drain before rentals end.
            backendServices.append(.init(service: GolemBackendService(backend: golemBackend)))
        }

        // The dashboard's board is fed only when the endpoint serves it.
        let board = metricsAt.map { _ in JobBoard() }
        let bridge = BridgeService(
            configuration: configuration, backend: jobBackend, metrics: BridgeMetrics(),
            observer: board.map { board -> JobEventObserver in { event, labels in board.record(event, labels: labels) } },
            logger: logger
        )
        var services = backendServices + [.init(service: bridge)]
        if let metricsAt, let board {
            let dashboard = Dashboard(
                board: board, token: resolved.dashboardToken,
                cancel: { jobId in try await bridge.requestCancel(jobId: jobId, reason: "canceled from the dashboard") },
                panel: panel, logger: logger
            )
            let endpoint = MetricsEndpoint(
                address: metricsAt, registry: registry, isHealthy: { bridge.isConsuming },
                routes: { router in dashboard.register(on: router) }, logger: logger
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

    /// `--dashboard-token`, or the content of `--dashboard-token-file` (trimmed), or `nil` (cancel off).
    /// Reads the file: call it from `resolve`, which runs on the blocking pool.
    static func dashboardToken(sources: SettingSources, flag: String?, fileFlag: String?) throws -> DashboardToken? {
        let table = settings
        if let token = try sources.value(table.dashboardToken, flag: flag) { return DashboardToken(token) }
        guard let path = try sources.value(table.dashboardTokenFile, flag: fileFlag) else { return nil }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw SettingError("--dashboard-token-file: cannot read \(path): \(error.localizedDescription)")
        }
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard table.dashboardToken.type.parse(token) != nil else {
            throw SettingError("--dashboard-token-file: the token in \(path) must be \(table.dashboardToken.type.expected)")
        }
        return DashboardToken(token)
    }

    /// The Golem backend's pool and budget as the dashboard shows them.
    static func panel(_ snapshot: GolemBackend.PoolSnapshot) -> BackendPanel {
        // Through the decimal text: NSDecimalNumber's doubleValue turns 0.00012102 into 0.00012101999999999998.
        func double(_ glm: Decimal) -> Double { Double("\(glm)") ?? NSDecimalNumber(decimal: glm).doubleValue }
        return BackendPanel(
            idle: snapshot.idle, lent: snapshot.lent, creating: snapshot.creating, agreements: snapshot.agreements,
            budget: double(snapshot.budget), reserved: double(snapshot.reserved), spent: double(snapshot.spent)
        )
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
