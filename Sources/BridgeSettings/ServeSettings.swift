import Logging

/// Where `serve` runs jobs.
public enum Backend: String, CaseIterable, Sendable {
    /// A bubblewrap sandbox on this machine.
    case local
    /// Providers rented through yagna.
    case golem
}

/// `golem-bridge serve`'s own settings (the Golem backend's are ``GolemSettings``). A setting whose
/// default is a note (`default: the number of cores`) resolves to `nil` when unset, and `serve`
/// computes it.
public struct ServeSettings: SettingsTable {
    public let amqpURL = Setting<String>(
        "amqp-url", "Broker URL, amqp:// or amqps://; for a cluster, one URL per node separated by commas (tried in turn, reconnecting to a live one). The password is never logged.",
        type: .text, default: "amqp://guest:guest@127.0.0.1:5672/", isSecret: true
    )
    public let backend = Setting<Backend>(
        "backend",
        "Where jobs run: local (a bubblewrap sandbox on this machine) or golem (providers rented through yagna; see the Golem options).",
        type: .oneOf, default: .local
    )
    public let journal = Setting<String>(
        "journal", "SQLite journal file: jobs, events sent, cancel marks. Bridges on one host may share it.",
        type: .text, default: "golem-bridge.sqlite"
    )
    public let concurrency = Setting<Int?>(
        "concurrency", "Jobs run at once.", type: .integer(1...10_000), defaultNote: "the number of cores"
    )
    public let backlog = Setting<Int?>(
        "backlog", "Accepted jobs that may wait for a slot beyond --concurrency.",
        type: .integer(0...Int.max), defaultNote: "--concurrency"
    )
    public let prefix = Setting<String>(
        "prefix", "Prefix of every exchange and queue name (golem → golem.jobs, golem.events, ...).",
        type: .matching("[A-Za-z0-9_.:-]{1,64}", "letters, digits and _ . : - (1 to 64 of them)"), default: "golem"
    )
    public let instanceName = Setting<String?>(
        "instance-name", "This bridge's name, unique per broker: the CloudEvent source and its cancel queue.",
        type: .matching("[A-Za-z0-9_.:-]{1,128}", "letters, digits and _ . : - (1 to 128 of them)"),
        defaultNote: "<host>-<pid>"
    )
    public let shutdownGrace = Setting<Double>(
        "shutdown-grace", "Seconds running jobs get to finish on shutdown.", type: .number(0...86_400), default: 30
    )
    public let retentionHours = Setting<Double>(
        "retention-hours", "Hours a finished job stays in the journal.",
        type: .number(above: 0, atMost: 24 * 3650), default: 168
    )
    public let maxRequestBytes = Setting<Int>(
        "max-request-bytes", "Largest request body in bytes.", type: .integer(1...64 << 20), default: 1 << 20
    )
    public let workRoot = Setting<String?>(
        "work-root", "Local backend: folder for the jobs' working directories.",
        type: .text, defaultNote: "$TMPDIR/golem-bridge-work"
    )
    public let logLevel = Setting<Logger.Level>(
        "log-level", "Least severe level logged: \(ValueType<Logger.Level>.oneOf.expected).", type: .oneOf, default: .info
    )
    public let metricsAddress = Setting<String?>(
        "metrics-address",
        "HOST:PORT for Prometheus: GET /metrics, and GET /healthz (200 while the bridge consumes requests, else 503). Names in docs/metrics.md.",
        type: .text, defaultNote: "off"
    )
    public let config = SettingSources.config

    public init() {}
}
