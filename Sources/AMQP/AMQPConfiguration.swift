import Foundation
import Resilience

/// Where and how to connect. Build it from a URL, then adjust fields.
public struct AMQPConfiguration: Sendable, Hashable {
    /// TLS settings for `amqps://`.
    public struct TLS: Sendable, Hashable {
        /// PEM file of the CA(s) that signed the broker certificate; nil uses no explicit CA.
        public var caCertPath: String?
        public var verifyPeer: Bool
        public var verifyHostname: Bool

        public init(caCertPath: String? = nil, verifyPeer: Bool = true, verifyHostname: Bool = true) {
            self.caCertPath = caCertPath
            self.verifyPeer = verifyPeer
            self.verifyHostname = verifyHostname
        }
    }

    /// One broker node's address.
    public struct Node: Sendable, Hashable, CustomStringConvertible {
        public var host: String
        public var port: Int
        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    public var host: String
    public var port: Int
    /// The other nodes of a cluster, tried in turn when `host:port` cannot be reached (set by a URL
    /// list). Every node takes the same credentials, vhost and TLS settings.
    public var otherNodes: [Node] = []
    /// Every node to try: `host:port` first, then `otherNodes`.
    public var nodes: [Node] { [Node(host: host, port: port)] + otherNodes }
    public var vhost: String
    public var user: String
    public var password: String
    public var useTLS: Bool
    public var tls: TLS
    /// Negotiated heartbeat; 0 disables it. Whole seconds on the wire. Default 30 s.
    public var heartbeat: Duration
    /// TCP (and TLS) connect timeout. Default 10 s.
    public var connectTimeout: Duration
    /// Bound for each synchronous AMQP method (login, declare, qos, ...). On expiry the library closes
    /// the socket and the client reconnects. Default 30 s.
    public var rpcTimeout: Duration
    /// Sent as the `connection_name` client property (shown in the management UI and rabbitmqctl).
    public var connectionName: String?
    /// Delay between reconnect attempts. Default 0.1 s doubling up to 10 s, jittered.
    public var reconnectBackoff: ReconnectBackoff
    /// How often a first connection is tried again after a transient broker failure
    /// (``AMQPError/isTransientBrokerFailure``), with ``reconnectBackoff`` between: about 25 s in all.
    /// Any other failure of a first connection (refused, wrong credentials or vhost, a topology that does
    /// not match) fails the start at once.
    static let startupRetries = 8

    public init(
        host: String = "127.0.0.1", port: Int? = nil, vhost: String = "/", user: String = "guest",
        password: String = "guest", useTLS: Bool = false, tls: TLS = TLS()
    ) {
        self.host = host
        self.port = port ?? (useTLS ? 5671 : 5672)
        self.vhost = vhost
        self.user = user
        self.password = password
        self.useTLS = useTLS
        self.tls = tls
        self.heartbeat = .seconds(30)
        self.connectTimeout = .seconds(10)
        self.rpcTimeout = .seconds(30)
        self.connectionName = nil
        self.reconnectBackoff = ReconnectBackoff()
    }

    /// Parses `amqp://user:pass@host:port/vhost` or `amqps://...`, or a comma-separated list of such
    /// URLs, one per node of a cluster (`amqp://u:p@h1:5672/v,amqp://u:p@h2:5672/v`), which must differ
    /// only in host and port. The first is tried first; see ``nodes``.
    ///
    /// User, password and vhost are percent-decoded (`%2F` is `/`). A missing or empty path means the
    /// default vhost `/`. Query parameters: `heartbeat`, `connection_timeout` and `rpc_timeout` in
    /// seconds (fractions allowed), `connection_name`, and for TLS `cacertfile`, `verify`
    /// (`verify_peer` | `verify_none`) and `verify_hostname` (`true` | `false`). Unknown parameters
    /// are rejected so typos do not pass silently.
    public init(url: String) throws {
        let urls = Self.splitList(url)
        try self.init(singleURL: urls[0])
        for (index, other) in urls.enumerated().dropFirst() {
            var node = try AMQPConfiguration(singleURL: other)
            node.host = host
            node.port = port
            node.otherNodes = otherNodes
            guard node == self else {
                throw AMQPError(
                    .invalidConfiguration,
                    "invalid AMQP URL list: URL \(index + 1) (\(Self.redact(other))) differs from the first in more than host and port; every node of a cluster takes the same user, password, vhost and parameters")
            }
            let parsed = try AMQPConfiguration(singleURL: other)
            otherNodes.append(Node(host: parsed.host, port: parsed.port))
        }
    }

    /// Splits a URL list at each comma that starts the next URL (`,amqp://` or `,amqps://`), so a
    /// comma inside one URL (its password, say) is left alone.
    static func splitList(_ list: String) -> [String] {
        var urls: [String] = []
        var current = ""
        var index = list.startIndex
        while index < list.endIndex {
            let next = list.index(after: index)
            if list[index] == ",", startsURL(list[next...]) {
                urls.append(current.trimmingCharacters(in: .whitespaces))
                current = ""
            } else {
                current.append(list[index])
            }
            index = next
        }
        urls.append(current.trimmingCharacters(in: .whitespaces))
        return urls
    }

    private static func startsURL(_ text: Substring) -> Bool {
        let lowered = text.trimmingCharacters(in: .whitespaces).lowercased()
        return lowered.hasPrefix("amqp://") || lowered.hasPrefix("amqps://")
    }

    private init(singleURL url: String) throws {
        func invalid(_ why: String) -> AMQPError {
            AMQPError(.invalidConfiguration, "invalid AMQP URL \(AMQPConfiguration.redact(url)): \(why)")
        }
        guard let components = URLComponents(string: url) else {
            throw invalid("not a valid URL (check the port is a number and special characters are percent-encoded)")
        }
        let useTLS: Bool
        switch components.scheme?.lowercased() {
        case "amqp": useTLS = false
        case "amqps": useTLS = true
        case nil: throw invalid("missing scheme; expected amqp:// or amqps://")
        case let other?: throw invalid("unsupported scheme '\(other)'; expected amqp or amqps")
        }
        // `encodedHost`, percent-decoded here, not `host`: `host` runs IDNA through ICU, which costs
        // about 1 MB of idle RSS (BENCHMARKS.md) and turns a punycode name (`xn--…`) into Unicode that
        // the resolver cannot look up; this keeps it as written. IPv6 literals keep their brackets either way.
        guard let encodedHost = components.encodedHost, !encodedHost.isEmpty else { throw invalid("missing host") }
        guard let host = encodedHost.removingPercentEncoding else { throw invalid("host is not valid percent-encoding") }
        var port = useTLS ? 5671 : 5672
        if let p = components.port {
            guard (1...65535).contains(p) else { throw invalid("port \(p) is out of range 1...65535") }
            port = p
        }
        let user = components.user ?? "guest"
        // guest/guest only when the URL has no credentials at all; a user without a password gets "".
        let password = components.password ?? (components.user == nil ? "guest" : "")
        var encodedPath = components.percentEncodedPath
        if encodedPath.hasPrefix("/") { encodedPath.removeFirst() }
        if encodedPath.contains("/") { throw invalid("vhost must be one path segment; encode '/' as %2F") }
        guard let decodedVhost = encodedPath.removingPercentEncoding else { throw invalid("vhost is not valid percent-encoding") }
        let vhost = decodedVhost.isEmpty ? "/" : decodedVhost

        self.init(host: host, port: port, vhost: vhost, user: user, password: password, useTLS: useTLS)

        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            func seconds() throws -> Duration {
                guard let s = Double(value), s >= 0, s.isFinite else {
                    throw invalid("query parameter '\(item.name)' must be a number of seconds, got '\(value)'")
                }
                return .seconds(saturating: s)
            }
            func bool() throws -> Bool {
                switch value.lowercased() {
                case "true", "1", "yes": return true
                case "false", "0", "no": return false
                default: throw invalid("query parameter '\(item.name)' must be true or false, got '\(value)'")
                }
            }
            switch item.name {
            case "heartbeat": heartbeat = try seconds()
            case "connection_timeout": connectTimeout = try seconds()
            case "rpc_timeout": rpcTimeout = try seconds()
            case "connection_name": connectionName = value
            case "cacertfile": tls.caCertPath = value
            case "verify":
                switch value {
                case "verify_peer": tls.verifyPeer = true
                case "verify_none": tls.verifyPeer = false; tls.verifyHostname = false
                default: throw invalid("query parameter 'verify' must be verify_peer or verify_none, got '\(value)'")
                }
            case "verify_hostname": tls.verifyHostname = try bool()
            default: throw invalid("unknown query parameter '\(item.name)'")
            }
        }
        if heartbeat > .seconds(65535) { throw invalid("heartbeat must be at most 65535 s") }
    }

    /// The connection URL without the password, for logs.
    public var redactedURL: String {
        var c = URLComponents()
        c.scheme = useTLS ? "amqps" : "amqp"
        c.user = user
        let encodedVhost = vhost.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-._~"))) ?? ""
        return nodes.map { node in
            var c = c
            c.host = node.host
            c.port = node.port
            return "\(c.string ?? "amqp://?")/\(encodedVhost)"
        }.joined(separator: ",")
    }

    /// Best-effort redaction of a raw URL string (used in parse errors).
    static func redact(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return "<url>" }
        let rest = url[schemeEnd.upperBound...]
        guard let at = rest.lastIndex(of: "@") else { return url }
        let userInfo = rest[..<at]
        let user = userInfo.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
        return "\(url[..<schemeEnd.upperBound])\(user):***\(rest[at...])"
    }
}
