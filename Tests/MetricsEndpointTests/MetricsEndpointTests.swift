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

private func freeishPort() -> Int { Int.random(in: 20_000...60_000) }

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
