#if canImport(Glibc)
import Glibc
#endif
import AsyncHTTPClient
import Logging
import MetricsEndpoint
import Prometheus
import Synchronization
import Testing

/// Runs `endpoint` while `body` runs, then cancels it.
private func serving<T: Sendable>(_ endpoint: MetricsEndpoint, _ body: () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await endpoint.run() }
        defer { group.cancelAll() }
        return try await body()
    }
}

/// GET `path` on `address`, retrying until the endpoint listens (at most 10 s).
private func get(_ address: MetricsAddress, _ path: String) async throws -> (status: UInt, body: String, contentType: String?) {
    var lastError: (any Error)?
    for _ in 0..<100 {
        do {
            let response = try await HTTPClient.shared.execute(
                HTTPClientRequest(url: "http://\(address)\(path)"), timeout: .seconds(5)
            )
            let body = try await response.body.collect(upTo: 1 << 20)
            return (response.status.code, String(buffer: body), response.headers.first(name: "content-type"))
        } catch {
            lastError = error
            try await Task.sleep(for: .milliseconds(100))
        }
    }
    throw lastError!
}

/// A port the kernel just handed out on 127.0.0.1 and that nothing listens on now (bind to port 0,
/// read it back, close): far less likely to be taken than a random pick.
private func freeishPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return Int.random(in: 20_000...60_000) }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { return Int.random(in: 20_000...60_000) }
    return Int(UInt16(bigEndian: address.sin_port))
}

@Suite struct MetricsEndpointTests {
    let logger = Logger(label: "test")

    @Test func servesTheRegistryInTheTextFormatAndHealthAsTheCheckSays() async throws {
        let registry = PrometheusCollectorRegistry()
        let descriptor = MetricNameDescriptor(metricName: "golem_bridge_test", unitName: "total", helpText: "A test.")
        registry.makeCounter(descriptor: descriptor, labels: [("reason", "schema")]).increment(by: Int64(3))
        let check = HealthBox(healthy: false)
        let address = MetricsAddress(host: "127.0.0.1", port: freeishPort())
        let endpoint = MetricsEndpoint(address: address, registry: registry, isHealthy: { check.value }, logger: logger)
        try await serving(endpoint) {
            let metrics = try await get(address, "/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.contentType == "text/plain; version=0.0.4; charset=utf-8")
            #expect(metrics.body.contains(#"golem_bridge_test_total{reason="schema"} 3"#), "\(metrics.body)")
            #expect(try await get(address, "/healthz").status == 503)
            check.value = true
            #expect(try await get(address, "/healthz").status == 200)
            #expect(try await get(address, "/nothing").status == 404)
        }
    }

    @Test func aTakenPortIsAStartErrorNamingTheAddress() async throws {
        let address = MetricsAddress(host: "127.0.0.1", port: freeishPort())
        let first = MetricsEndpoint(address: address, registry: PrometheusCollectorRegistry(), logger: logger)
        try await serving(first) {
            _ = try await get(address, "/metrics")
            let second = MetricsEndpoint(address: address, registry: PrometheusCollectorRegistry(), logger: logger)
            await #expect {
                try await second.run()
            } throws: { error in
                "\(error)".hasPrefix("metrics endpoint: cannot listen on \(address): ")
                    && "\(error)".contains("Address already in use")
            }
        }
    }
}

private final class HealthBox: Sendable {
    private let state: Mutex<Bool>
    init(healthy: Bool) { state = Mutex(healthy) }
    var value: Bool {
        get { state.withLock { $0 } }
        set { state.withLock { $0 = newValue } }
    }
}
