/// Where the metrics endpoint listens: `HOST:PORT`, e.g. `127.0.0.1:9464`, `0.0.0.0:9464`,
/// `localhost:9464` or `[::1]:9464` (an IPv6 address in brackets).
public struct MetricsAddress: Sendable, Hashable, CustomStringConvertible {
    /// A host name or an IP address, without brackets.
    public var host: String
    /// 1 to 65535.
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT`; the error says what is wrong with `text`.
    public init(parsing text: String) throws(MetricsAddressError) {
        let hostPart: Substring
        let portPart: Substring
        if text.contains("://") { throw MetricsAddressError(text, "give the address to listen on, not a URL") }
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw MetricsAddressError(text, "an IPv6 address needs its closing ]")
            }
            hostPart = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw MetricsAddressError(text, "expected :PORT after the ]") }
            portPart = rest.dropFirst()
            guard !hostPart.isEmpty, hostPart.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                throw MetricsAddressError(text, "\"\(hostPart)\" is not an IPv6 address")
            }
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw MetricsAddressError(text, "expected HOST:PORT") }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
            guard !hostPart.isEmpty else { throw MetricsAddressError(text, "the host is missing (use 0.0.0.0 for every interface)") }
            guard !hostPart.contains(":") else { throw MetricsAddressError(text, "put an IPv6 address in brackets, as [::1]:9464") }
            guard hostPart.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_") }) else {
                throw MetricsAddressError(text, "\"\(hostPart)\" is not a host name or an IP address")
            }
        }
        guard !portPart.isEmpty, portPart.allSatisfy({ $0.isASCII && $0.isNumber }), let port = Int(portPart), (1...65535).contains(port) else {
            throw MetricsAddressError(text, "the port must be a number from 1 to 65535")
        }
        self.init(host: String(hostPart), port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Why a metrics address does not parse; the description quotes it and names the fault.
public struct MetricsAddressError: Error, Sendable, Hashable, CustomStringConvertible {
    public var text: String
    public var reason: String

    init(_ text: String, _ reason: String) {
        self.text = text
        self.reason = reason
    }

    public var description: String { "\"\(text)\" is not HOST:PORT: \(reason)" }
}
