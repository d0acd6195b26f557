import MetricsEndpoint
import Testing

@Suite struct MetricsAddressTests {
    @Test(arguments: [
        ("127.0.0.1:9464", "127.0.0.1", 9464),
        ("0.0.0.0:1", "0.0.0.0", 1),
        ("localhost:65535", "localhost", 65535),
        ("metrics.internal-1:8080", "metrics.internal-1", 8080),
        ("[::1]:9464", "::1", 9464),
        ("[::]:9464", "::", 9464),
    ])
    func parsesHostAndPort(text: String, host: String, port: Int) throws {
        let address = try MetricsAddress(parsing: text)
        #expect(address.host == host)
        #expect(address.port == port)
        #expect(address.description == text)
    }

    @Test(arguments: [
        ("9464", "expected HOST:PORT"),
        (":9464", "the host is missing"),
        ("127.0.0.1:", "the port must be a number from 1 to 65535"),
        ("127.0.0.1:0", "the port must be a number from 1 to 65535"),
        ("127.0.0.1:65536", "the port must be a number from 1 to 65535"),
        ("127.0.0.1:+80", "the port must be a number from 1 to 65535"),
        ("127.0.0.1:http", "the port must be a number from 1 to 65535"),
        ("::1:9464", "put an IPv6 address in brackets"),
        ("[::1:9464", "needs its closing ]"),
        ("[::1]9464", "expected :PORT after the ]"),
        ("[]:9464", "is not an IPv6 address"),
        ("http://127.0.0.1:9464", "not a URL"),
        ("127.0.0.1/x:9464", "is not a host name or an IP address"),
        ("my host:9464", "is not a host name or an IP address"),
    ])
    func refusesWhatIsNotHostColonPortNamingTheFault(text: String, fault: String) {
        #expect {
            try MetricsAddress(parsing: text)
        } throws: { error in
            let description = "\(error)"
            return description.hasPrefix("\"\(text)\" is not HOST:PORT: ") && description.contains(fault)
        }
    }
}
