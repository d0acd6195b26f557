import AMQP
import Foundation

/// Everything `golem-bridge serve` needs, with the defaults of contract v1.
public struct BridgeConfiguration: Sendable {
    /// The broker. Its password never appears in logs (``AMQPConfiguration/redactedURL``).
    public var amqp: AMQPConfiguration
    /// Renames the whole topology: `<prefix>.jobs`, `<prefix>.events`, ...
    public var prefix: String
    /// This bridge's name: the CloudEvent `source` is `golem-bridge://<instanceName>`, and its cancel queue
    /// is named after it. Must be unique among bridges on one broker.
    public var instanceName: String
    /// How many jobs run at once.
    public var concurrency: Int
    /// How many accepted jobs may wait for a slot beyond `concurrency`; past that, requests stay in the
    /// broker's queue (where other bridges can take them) and the bridge's memory stays flat.
    public var backlog: Int
    /// SQLite file of the journal (bridges on one host may share it), or a `postgres://` URL of the
    /// journal N bridges on any hosts share (``PostgresJournal``).
    public var journalPath: String
    /// On SIGTERM/SIGINT, how long running jobs may take to finish before they are stopped and left to
    /// be resumed by the next start.
    public var shutdownGrace: Duration
    /// Finished jobs older than this are pruned from the journal.
    public var retention: Duration
    /// A request that waits this long for a slot goes back to the queue (nack, requeue), so it is
    /// never held unacknowledged long enough for the broker's consumer timeout.
    public var intakeWait: Duration
    /// Largest request body accepted.
    public var maxRequestBytes: Int

    public init(
        amqp: AMQPConfiguration,
        prefix: String = "golem",
        instanceName: String = BridgeConfiguration.defaultInstanceName(),
        concurrency: Int = 4,
        backlog: Int? = nil,
        journalPath: String = "golem-bridge.sqlite",
        shutdownGrace: Duration = .seconds(30),
        retention: Duration = .seconds(7 * 24 * 3600),
        intakeWait: Duration = .seconds(60),
        maxRequestBytes: Int = 1 << 20
    ) {
        self.amqp = amqp
        self.prefix = prefix
        self.instanceName = instanceName
        self.concurrency = concurrency
        self.backlog = backlog ?? concurrency
        self.journalPath = journalPath
        self.shutdownGrace = shutdownGrace
        self.retention = retention
        self.intakeWait = intakeWait
        self.maxRequestBytes = maxRequestBytes
    }

    /// Whether ``journalPath`` names the PostgreSQL journal N bridges share (not a SQLite file).
    public var journalIsShared: Bool { PostgresURL.isPostgres(journalPath) }

    /// ``journalPath`` without a password, for logs.
    public var redactedJournal: String {
        guard journalIsShared else { return journalPath }
        return (try? PostgresURL(journalPath).redacted) ?? "postgres://(unreadable URL)"
    }

    /// `<hostname>-<pid>`: unique per process on a host.
    public static func defaultInstanceName() -> String {
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "bridge"
        return "\(host)-\(ProcessInfo.processInfo.processIdentifier)"
    }
}
