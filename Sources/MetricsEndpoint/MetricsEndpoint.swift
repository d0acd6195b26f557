import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle
import Synchronization

/// The HTTP endpoint Prometheus scrapes: `GET /metrics` (text exposition format 0.0.4) and, when a
/// health check is given, `GET /healthz` (200 `ok` while it holds, else 503). A `Service`: it stops
/// on graceful shutdown. If it cannot listen (the port is taken, the host is not local), `run()`
/// throws a ``MetricsEndpointError`` that names the address; ``waitUntilListening()`` lets other
/// services start only once it listens. `routes` adds more on the same server (the dashboard).
public final class MetricsEndpoint: Service {
    public let address: MetricsAddress
    let registry: PrometheusCollectorRegistry
    let isHealthy: (@Sendable () -> Bool)?
    let routes: (@Sendable (Router<BasicRequestContext>) -> Void)?
    let logger: Logger
    private let start = StartSignal()

    public init(
        address: MetricsAddress, registry: PrometheusCollectorRegistry, isHealthy: (@Sendable () -> Bool)? = nil,
        routes: (@Sendable (Router<BasicRequestContext>) -> Void)? = nil, logger: Logger
    ) {
        self.routes = routes
        self.address = address
        self.registry = registry
        self.isHealthy = isHealthy
        self.logger = logger
    }

    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public func run() async throws {
        let router = Router()
        let registry = registry
        router.get("metrics") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: Self.contentType],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer()))
            )
        }
        if let isHealthy {
            router.get("healthz") { _, _ -> Response in
                let healthy = isHealthy()
                return Response(
                    status: healthy ? .ok : .serviceUnavailable, headers: [.contentType: "text/plain; charset=utf-8"],
                    body: ResponseBody(byteBuffer: ByteBuffer(string: healthy ? "ok\n" : "not consuming\n"))
                )
            }
        }
        routes?(router)
        let start = start
        // Hummingbird logs the address it listens on.
        let app = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(address.host, port: address.port), serverName: nil),
            onServerRunning: { _ in start.listening() },
            logger: logger
        )
        do {
            try await app.run()
            start.failed(MetricsEndpointError("metrics endpoint: stopped before it listened on \(address)"))
        } catch where !start.isListening {
            let failure = MetricsEndpointError("metrics endpoint: cannot listen on \(address): \(error)")
            start.failed(failure)
            throw failure
        }
    }

    /// Returns once the endpoint listens; throws its start error if it could not (or stopped first).
    public func waitUntilListening() async throws {
        try await start.wait()
    }
}

/// The endpoint could not start; the description names the address and the cause.
public struct MetricsEndpointError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// Whether the server listens yet: errors before that are start-up errors.
private final class StartSignal: Sendable {
    private enum State {
        case starting([CheckedContinuation<Void, any Error>])
        case listening
        case failed(MetricsEndpointError)
    }

    private let state = Mutex(State.starting([]))

    var isListening: Bool {
        state.withLock { if case .listening = $0 { true } else { false } }
    }

    func listening() { settle(.listening) }

    func failed(_ error: MetricsEndpointError) { settle(.failed(error)) }

    /// The first outcome wins; waiters learn it.
    private func settle(_ outcome: State) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            guard case .starting(let waiters) = state else { return [] }
            state = outcome
            return waiters
        }
        for waiter in waiters {
            if case .failed(let error) = outcome { waiter.resume(throwing: error) } else { waiter.resume() }
        }
    }

    func wait() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let settled = state.withLock { state -> Result<Void, MetricsEndpointError>? in
                switch state {
                case .starting(var waiters):
                    waiters.append(continuation)
                    state = .starting(waiters)
                    return nil
                case .listening: return .success(())
                case .failed(let error): return .failure(error)
                }
            }
            if let settled { continuation.resume(with: settled) }
        }
    }
}
