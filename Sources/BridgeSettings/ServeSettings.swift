import Logging

/// Where `serve` runs jobs.
public enum Backend: String, CaseIterable, Sendable {
    /// A bubblewrap sandbox on this machine.
    case local
    /// Providers rented through yagna.
    case golem
}

/// How log lines are written to standard error.
public enum LogFormat: String, CaseIterable, Sendable {
    /// swift-log's text lines, for people.
    case text
    /// One JSON object per line (`time`, `level`, `label`, `source`, `message`, then the metadata), for
    /// log collectors.
    case json
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
        "journal",
        "Where jobs, events sent and cancel marks are kept: a SQLite file (bridges on one host may share it), or postgres://USER:PASSWORD@HOST:PORT/DB[?sslmode=…&schema=…&lease=SECONDS] for N bridges on any hosts (README \"Scaling out\"). The password is never logged.",
        type: .text, default: "golem-bridge.sqlite", isSecret: true
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
        type: .ascii(1...64, "letters, digits and _ . : - (1 to 64 of them)", allowing: isNameCharacter), default: "golem"
    )
    public let instanceName = Setting<String?>(
        "instance-name", "This bridge's name, unique per broker: the CloudEvent source and its cancel queue.",
        type: .ascii(1...128, "letters, digits and _ . : - (1 to 128 of them)", allowing: isNameCharacter),
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
    public let logFormat = Setting<LogFormat>(
        "log-format",
        "How log lines look: text, or json (one object per line: time, level, label, source, message, then the metadata).",
        type: .oneOf, default: .text
    )
    public let logLevel = Setting<Logger.Level>(
        "log-level", "Least severe level logged: \(ValueType<Logger.Level>.oneOf.expected).", type: .oneOf, default: .info
    )
    public let httpAddress = Setting<String?>(
        "http-address",
        "HOST:PORT of the HTTP endpoint: the dashboard at /, its JSON API under /api/, GET /metrics for Prometheus, and GET /healthz (200 while the bridge consumes requests, else 503). Use a loopback address (127.0.0.1) unless a proxy guards it. Names in docs/metrics.md.",
        type: .text, defaultNote: "off"
    )
    /// The old name of ``httpAddress``; still read (flag, environment, file key), with a warning.
    public let metricsAddress = Setting<String?>(
        "metrics-address", "Deprecated: the old name of --http-address.", type: .text, defaultNote: nil
    )
    public let dashboardToken = Setting<String?>(
        "dashboard-token",
        "Secret that enables the dashboard's cancel button: a cancel request must carry it (Authorization: Bearer <token>). Never logged. Prefer the environment or --dashboard-token-file over the flag, which ps shows.",
        type: .ascii(16...256, "16 to 256 printable ASCII characters, no spaces", allowing: { (0x21...0x7e).contains($0) }),
        defaultNote: "none: cancel is off", isSecret: true
    )
    public let dashboardTokenFile = Setting<String?>(
        "dashboard-token-file", "File holding --dashboard-token (surrounding whitespace ignored).",
        type: .text, defaultNote: nil
    )
    public let config = SettingSources.config

    public init() {}
}

/// A letter, a digit or one of `_ . : -`: what a queue prefix and an instance name are made of.
@Sendable private func isNameCharacter(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
        true
    default:
        "_.:-".utf8.contains(byte)
    }
}
