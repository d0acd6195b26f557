import Dashboard
import Foundation
import GolemJobs
import Hummingbird
import HummingbirdTesting
import JSONModel
import Logging
import Synchronization
import Testing

/// The job IDs a dashboard asked to cancel.
final class CancelRecorder: Sendable {
    private let ids = Mutex<[String]>([])
    func add(_ id: String) { ids.withLock { $0.append(id) } }
    var all: [String] { ids.withLock { $0 } }
}

@Suite struct DashboardRoutesTests {
    static let token = "test-token-0123456789abcdef"

    static func app(token: String? = Self.token, board: JobBoard, cancels: CancelRecorder, panel: BackendPanel? = nil) -> some ApplicationProtocol {
        let dashboard = Dashboard(
            board: board, token: token.map(DashboardToken.init),
            cancel: { id in cancels.add(id) },
            panel: panel.map { panel -> @Sendable () -> BackendPanel? in { panel } }, logger: Logger(label: "test")
        )
        let router = Router()
        dashboard.register(on: router)
        return Application(router: router)
    }

    static func json(_ buffer: ByteBuffer) throws -> JSONValue { try JSONValue.parse(Array(buffer: buffer), maxDepth: 32) }

    @Test func servesThePageAndTheJobsAPIWithFilters() async throws {
        let board = JobBoard()
        JobBoardTests.run(board, "ok-1", outcome: .success, labels: ["team": "a"])
        JobBoardTests.run(board, "bad-1", outcome: .error, labels: ["team": "b"])
        try await Self.app(board: board, cancels: CancelRecorder()).test(.router) { client in
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
                #expect(String(buffer: response.body).contains("EventSource(\"/api/events\""))
            }
            try await client.execute(uri: "/api/jobs?state=failed", method: .get) { response in
                let json = try Self.json(response.body)
                #expect(json["jobs"]?.array?.compactMap { $0["jobId"]?.string } == ["bad-1"])
                #expect(json["jobs"]?.array?.first?["error"]?.string == "command_failed: boom")
                #expect(json["counts"]?["failed"]?.int == 1)
                #expect(json["canCancel"]?.bool == true)
            }
            try await client.execute(uri: "/api/jobs?label=team=a", method: .get) { response in
                let json = try Self.json(response.body)
                #expect(json["jobs"]?.array?.compactMap { $0["jobId"]?.string } == ["ok-1"])
            }
            try await client.execute(uri: "/api/jobs?state=sleeping", method: .get) { response in
                #expect(response.status == .badRequest)
            }
            try await client.execute(uri: "/api/jobs/ok-1", method: .get) { response in
                let json = try Self.json(response.body)
                #expect(json["phase"]?.string == "succeeded")
                #expect(json["provider"]?.string == "local")
                #expect(json["timeline"]?.array?.compactMap { $0["kind"]?.string } == ["created", "started", "success", "ended"])
            }
            try await client.execute(uri: "/api/jobs/nope", method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test func statsHaveAnHourOfMinutesAndTheBackendPanel() async throws {
        let board = JobBoard()
        let panel = BackendPanel(idle: 1, lent: 2, creating: 1, agreements: 3, budget: 5, reserved: 0.25, spent: 0.125)
        try await Self.app(board: board, cancels: CancelRecorder(), panel: panel).test(.router) { client in
            try await client.execute(uri: "/api/stats", method: .get) { response in
                let json = try Self.json(response.body)
                #expect(json["minutes"]?.array?.count == 60)
                #expect(json["backend"]?["lent"]?.int == 2)
                #expect(json["backend"]?["reserved"]?.number == 0.25)
                #expect(json["backend"]?["budget"]?.number == 5)
                #expect(json["backend"]?["spent"]?.number == 0.125)
            }
        }
    }

    @Test func cancelNeedsTheRightTokenOnEveryRequest() async throws {
        let cancels = CancelRecorder()
        try await Self.app(board: JobBoard(), cancels: cancels).test(.router) { client in
            try await client.execute(uri: "/api/jobs/j1/cancel", method: .post) { response in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(uri: "/api/jobs/j1/cancel", method: .post, headers: [.authorization: "Bearer wrong-token-0123456789"]) { response in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/api/jobs/j1/cancel", method: .post, headers: [.authorization: "Bearer \(Self.token)"]) { response in
                #expect(response.status == .accepted)
            }
            try await client.execute(uri: "/api/jobs/j2/cancel", method: .post) { response in
                #expect(response.status == .unauthorized)
            }
        }
        #expect(cancels.all == ["j1"])
    }

    @Test func cancelIsRefusedWhenNoTokenIsConfigured() async throws {
        let cancels = CancelRecorder()
        try await Self.app(token: nil, board: JobBoard(), cancels: cancels).test(.router) { client in
            try await client.execute(uri: "/api/jobs/j1/cancel", method: .post, headers: [.authorization: "Bearer anything-at-all-12345"]) { response in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/api/jobs", method: .get) { response in
                let json = try Self.json(response.body)
                #expect(json["canCancel"]?.bool == false)
            }
        }
        #expect(cancels.all.isEmpty)
    }
}
