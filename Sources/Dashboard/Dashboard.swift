import Foundation
import Hummingbird
import JSONModel
import Logging
import ServiceLifecycle

/// The live dashboard on the bridge's HTTP endpoint: the page at `/` (and `/jobs/<id>`), its JSON API
/// under `/api/`, and server-sent events of the bridge's job events. Reads only the ``JobBoard`` and
/// the backend's panel; a cancel goes out through `cancel`, the path a client's cancel message takes.
///
/// Routes (`docs/metrics.md`, "Dashboard"):
/// - `GET /api/jobs?state=running,waiting&label=k=v&limit=N`: recent jobs, newest first, and counts.
/// - `GET /api/jobs/<id>`: one job with its timeline (404 when the board has not seen it).
/// - `GET /api/stats`: the last hour per minute, counts, and the backend panel (Golem only).
/// - `GET /api/events[?job=<id>]`: `text/event-stream`, one `job` event per job event.
/// - `POST /api/jobs/<id>/cancel` with `Authorization: Bearer <token>`: 202 once the cancel was
///   published; 401 without a token, 403 with a wrong one or when no token is configured.
public struct Dashboard: Sendable {
    public let board: JobBoard
    let token: DashboardToken?
    let cancel: @Sendable (String) async throws -> Void
    let panel: (@Sendable () -> BackendPanel?)?
    let now: @Sendable () -> Date
    let logger: Logger

    /// - Parameters:
    ///   - token: enables the cancel button; `nil` turns cancel off (every cancel request is refused).
    ///   - cancel: publishes a cancel for a job ID.
    ///   - panel: the backend's snapshot, for the Golem backend.
    public init(
        board: JobBoard, token: DashboardToken?, cancel: @escaping @Sendable (String) async throws -> Void,
        panel: (@Sendable () -> BackendPanel?)? = nil, now: @escaping @Sendable () -> Date = { Date() }, logger: Logger
    ) {
        self.board = board
        self.token = token
        self.cancel = cancel
        self.panel = panel
        self.now = now
        self.logger = logger
    }

    /// Adds the dashboard's routes to `router`.
    public func register(on router: Router<BasicRequestContext>) {
        let dashboard = self
        router.get("/") { _, _ in Self.html(DashboardPage.html) }
        router.get("/jobs/:id") { _, _ in Self.html(DashboardPage.html) }
        router.get("/api/jobs") { request, _ in
            let filter: JobFilter
            do { filter = try Self.filter(request.uri.queryParameters) } catch let error as QueryError {
                return Self.json(DashboardJSON.error(error.message), status: .badRequest)
            }
            let now = dashboard.now()
            return Self.json(.object([
                JSONMember("jobs", .array(dashboard.board.jobs(filter).map { DashboardJSON.summary($0, now: now) })),
                JSONMember("counts", DashboardJSON.counts(dashboard.board.counts())),
                JSONMember("canCancel", .bool(dashboard.token != nil)),
            ]))
        }
        router.get("/api/jobs/:id") { _, context in
            let id = context.parameters.get("id") ?? ""
            guard let job = dashboard.board.job(id: id) else {
                return Self.json(DashboardJSON.error("no job \(id) since this bridge started"), status: .notFound)
            }
            return Self.json(DashboardJSON.detail(job, now: dashboard.now()))
        }
        router.get("/api/stats") { _, _ in
            let now = dashboard.now()
            return Self.json(.object([
                JSONMember("minutes", .array(dashboard.board.lastHour(endingAt: now).map(DashboardJSON.minute))),
                JSONMember("counts", DashboardJSON.counts(dashboard.board.counts())),
                JSONMember("backend", dashboard.panel?().map(DashboardJSON.panel) ?? .null),
                JSONMember("canCancel", .bool(dashboard.token != nil)),
            ]))
        }
        router.get("/api/events") { request, _ in
            dashboard.events(jobId: request.uri.queryParameters.get("job"))
        }
        router.post("/api/jobs/:id/cancel") { request, context in
            await dashboard.cancel(jobId: context.parameters.get("id") ?? "", authorization: request.headers[.authorization])
        }
    }

    /// The live feed: `retry`, a `hello`, then one `job` event per update until the client goes, the
    /// board drops it for falling behind (the page reconnects and reloads), or the server shuts down.
    func events(jobId: String?) -> Response {
        let stream = board.subscribe(jobId: jobId)
        let now = now
        let board = board
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: "retry: 2000\nevent: hello\ndata: {}\n\n"))
                // At shutdown every feed ends, so open pages do not hold the server's drain.
                try await withGracefulShutdownHandler {
                    for await update in stream {
                        let data = String(decoding: DashboardJSON.update(update, now: now()).encoded(), as: UTF8.self)
                        try await writer.write(ByteBuffer(string: "event: job\ndata: \(data)\n\n"))
                    }
                } onGracefulShutdown: {
                    board.closeSubscriptions()
                }
                try await writer.finish(nil)
            }
        )
    }

    /// Checks the token on every request (constant time), then publishes the cancel.
    func cancel(jobId: String, authorization: String?) async -> Response {
        guard let token else {
            return Self.json(DashboardJSON.error("cancel is off: the bridge has no --dashboard-token"), status: .forbidden)
        }
        guard let authorization, authorization.hasPrefix("Bearer ") else {
            return Self.json(DashboardJSON.error("cancel needs Authorization: Bearer <token>"), status: .unauthorized,
                             extra: [.wwwAuthenticate: "Bearer"])
        }
        guard token.matches(String(authorization.dropFirst("Bearer ".count))) else {
            logger.warning("dashboard cancel refused: wrong token", metadata: ["job.id": "\(jobId)"])
            return Self.json(DashboardJSON.error("wrong token"), status: .forbidden)
        }
        do {
            try await cancel(jobId)
        } catch {
            return Self.json(DashboardJSON.error("cancel not sent: \(error)"), status: .serviceUnavailable)
        }
        logger.info("cancel requested from the dashboard", metadata: ["job.id": "\(jobId)"])
        return Self.json(.object([JSONMember("jobId", .string(jobId)), JSONMember("cancelRequested", .bool(true))]), status: .accepted)
    }

    static func filter(_ query: Parameters) throws(QueryError) -> JobFilter {
        var filter = JobFilter()
        if let states = query.get("state"), !states.isEmpty {
            var phases = Set<JobEntry.Phase>()
            for name in states.split(separator: ",") {
                guard let phase = JobEntry.Phase(rawValue: String(name)) else {
                    throw QueryError("state must be one of \(JobEntry.Phase.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                phases.insert(phase)
            }
            filter.phases = phases
        }
        for label in query.getAll("label") where !label.isEmpty {
            guard let equals = label.firstIndex(of: "=") else { throw QueryError("label must be KEY=VALUE") }
            filter.labels[String(label[..<equals])] = String(label[label.index(after: equals)...])
        }
        if let limit = query.get("limit") {
            guard let value = Int(limit), (1...5000).contains(value) else { throw QueryError("limit must be 1 to 5000") }
            filter.limit = value
        }
        return filter
    }

    /// A query parameter that cannot be used; the message names it.
    struct QueryError: Error {
        var message: String
        init(_ message: String) { self.message = message }
    }

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, extra: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"]
        headers.append(contentsOf: extra)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: value.encoded())))
    }

    static func html(_ page: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: page))
        )
    }
}
