import AMQP
import ArgumentParser
import Bridge
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

    @Option(help: "Broker URL, amqp:// or amqps://. The password is never logged. [env GOLEM_BRIDGE_AMQP_URL; default amqp://guest:guest@127.0.0.1:5672/]")
    var amqpURL: String?

    @Option(help: "Where jobs run: local (a bubblewrap sandbox on this machine) or golem (providers rented through yagna; see the Golem options). [env GOLEM_BRIDGE_BACKEND; default local]")
    var backend: String?

    @Option(help: "SQLite journal file: jobs, events sent, cancel marks. Bridges on one host may share it. [env GOLEM_BRIDGE_JOURNAL; default ./golem-bridge.sqlite]")
    var journal: String?

    @Option(help: "Jobs run at once. [env GOLEM_BRIDGE_CONCURRENCY; default: the number of cores]")
    var concurrency: Int?

    @Option(help: "Accepted jobs that may wait for a slot beyond --concurrency. [env GOLEM_BRIDGE_BACKLOG; default: --concurrency]")
    var backlog: Int?

    @Option(help: "Prefix of every exchange and queue name (golem → golem.jobs, golem.events, ...). [env GOLEM_BRIDGE_PREFIX; default golem]")
    var prefix: String?

    @Option(help: "This bridge's name, unique per broker: the CloudEvent source and its cancel queue. [env GOLEM_BRIDGE_INSTANCE_NAME; default <host>-<pid>]")
    var instanceName: String?

    @Option(help: "Seconds running jobs get to finish on shutdown. [env GOLEM_BRIDGE_SHUTDOWN_GRACE; default 30]")
    var shutdownGrace: Double?

    @Option(help: "Hours a finished job stays in the journal. [env GOLEM_BRIDGE_RETENTION_HOURS; default 168]")
    var retentionHours: Double?

    @Option(help: "Largest request body in bytes. [env GOLEM_BRIDGE_MAX_REQUEST_BYTES; default 1048576]")
    var maxRequestBytes: Int?

    @Option(help: "Local backend: folder for the jobs' working directories. [env GOLEM_BRIDGE_WORK_ROOT; default $TMPDIR/golem-bridge-work]")
    var workRoot: String?

    @Option(help: "trace, debug, info, notice, warning, error or critical. [env GOLEM_BRIDGE_LOG_LEVEL; default info]")
    var logLevel: String?

    @Option(help: "HOST:PORT for Prometheus: GET /metrics, and GET /healthz (200 while the bridge consumes requests, else 503). Names in docs/metrics.md. [env GOLEM_BRIDGE_METRICS_ADDRESS; default: off]")
    var metricsAddress: String?

    @OptionGroup(title: "Golem backend")
    var golem: GolemOptions

    @Option(help: "JSON file with any of these options by their long names (e.g. {\"concurrency\": 8}). [env GOLEM_BRIDGE_CONFIG]")
    var config: String?

    /// The settings a config file may hold: the long names of the options, as --help lists them.
    static var settingNames: Set<String> {
        let help = helpMessage(columns: 10_000)
        let names = help.matches(of: /--([a-z][a-z0-9-]*)/).map { String($0.1) }
        return Set(names).subtracting(["help", "config"])
    }

    func run() async throws {
        let settings = try Settings(configPath: config)
        try settings.rejectUnknownFileKeys(known: Self.settingNames)
        let level = try parseLogLevel(settings.string("log-level", flag: logLevel, default: "info"))
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "golem-bridge")

        var amqp: AMQPConfiguration
        do {
            amqp = try AMQPConfiguration(url: settings.string("amqp-url", flag: amqpURL, default: "amqp://guest:guest@127.0.0.1:5672/"))
        } catch {
            throw ValidationError("--amqp-url: \(error)")
        }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let concurrency = try settings.int("concurrency", flag: concurrency, default: cores)
        guard (1...10_000).contains(concurrency) else { throw ValidationError("--concurrency must be between 1 and 10000") }
        let backlog = try settings.int("backlog", flag: backlog, default: concurrency)
        guard backlog >= 0 else { throw ValidationError("--backlog must not be negative") }
        let instance = settings.string("instance-name", flag: instanceName, default: BridgeConfiguration.defaultInstanceName())
        guard instance.range(of: "^[A-Za-z0-9_.:-]{1,128}$", options: .regularExpression) != nil else {
            throw ValidationError("--instance-name may use letters, digits and _ . : - (1 to 128)")
        }
        amqp.connectionName = "golem-bridge \(instance)"
        let prefix = settings.string("prefix", flag: prefix, default: "golem")
        guard prefix.range(of: "^[A-Za-z0-9_.:-]{1,64}$", options: .regularExpression) != nil else {
            throw ValidationError("--prefix may use letters, digits and _ . : - (1 to 64)")
        }
        let grace = try settings.double("shutdown-grace", flag: shutdownGrace, default: 30)
        let retention = try settings.double("retention-hours", flag: retentionHours, default: 168)
        let maxBytes = try settings.int("max-request-bytes", flag: maxRequestBytes, default: 1 << 20)
        guard grace >= 0, retention > 0, maxBytes > 0 else {
            throw ValidationError("--shutdown-grace, --retention-hours and --max-request-bytes must be positive")
        }
        guard grace <= 86_400, retention <= 24 * 3650, maxBytes <= 64 << 20 else {
            throw ValidationError("--shutdown-grace is at most 86400 s, --retention-hours at most 87600, --max-request-bytes at most 67108864")
        }

        let configuration = BridgeConfiguration(
            amqp: amqp, prefix: prefix, instanceName: instance, concurrency: concurrency, backlog: backlog,
            journalPath: settings.string("journal", flag: journal, default: "golem-bridge.sqlite"),
            shutdownGrace: .milliseconds(Int64(grace * 1000)), retention: .seconds(Int64(retention * 3600)),
            maxRequestBytes: maxBytes
        )

        // Parsed before anything starts, so a typo is refused at once.
        let metricsAt: MetricsAddress?
        do {
            metricsAt = try settings.string("metrics-address", flag: metricsAddress).map { try MetricsAddress(parsing: $0) }
        } catch {
            throw ValidationError("--metrics-address: \(error)")
        }
        // Without an address the metrics stay swift-metrics' no-op default: nothing is kept.
        let registry = PrometheusCollectorRegistry()
        if metricsAt != nil { MetricsSystem.bootstrap(Self.metricsFactory(registry: registry)) }

        let backendName = settings.string("backend", flag: backend, default: "local")
        let jobBackend: any JobBackend
        var backendServices: [ServiceGroupConfiguration.ServiceConfiguration] = []
        switch backendName {
        case "local":
            let root = settings.string(
                "work-root", flag: workRoot,
                default: (ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp") + "/golem-bridge-work"
            )
            let local = LocalBackend(configuration: LocalBackendConfiguration(workRoot: root), logger: logger)
            do { try local.preflight() } catch { throw CLIError("local backend: \(error)") }
            jobBackend = local
        case "golem":
            let golemConfiguration = try golem.configuration(
                settings: settings, concurrency: concurrency, journalPath: configuration.journalPath
            )
            let store: SQLiteRentalStore
            do { store = try SQLiteRentalStore(path: golemConfiguration.statePath) } catch {
                throw CLIError("golem backend: cannot open its state file \(golemConfiguration.statePath): \(error)")
            }
            let golemBackend = GolemBackend(configuration: golemConfiguration, store: store, logger: logger)
            logger.info("golem backend", metadata: ["configuration": "\(golemConfiguration)"])
            jobBackend = golemBackend
            // Before the bridge: services stop in reverse order, so jobs drain before rentals end.
            backendServices.append(.init(service: GolemBackendService(backend: golemBackend)))
        default:
            throw ValidationError("--backend must be local or golem, got \"\(backendName)\"")
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

func parseLogLevel(_ text: String) throws -> Logger.Level {
    guard let level = Logger.Level(rawValue: text.lowercased()) else {
        throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
    }
    return level
}
