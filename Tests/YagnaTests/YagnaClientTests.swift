import Foundation
import Testing
@testable import Yagna
import GolemLocalTestSupport
import Logging

let testLogger = Logger(label: "yagna-test")

@Suite struct YagnaClientTests {
    @Test func queryValuesArePercentEncoded() {
        #expect(YagnaClient.queryString([]) == "")
        #expect(YagnaClient.queryString([("timeout", "3"), ("afterTimestamp", "2026-11-29T06:00:00.000+00:00")])
            == "?timeout=3&afterTimestamp=2026-11-29T06%3A00%3A00.000%2B00%3A00")
    }

    @Test func errorMessagesComeFromYagnasBodies() {
        #expect(YagnaClient.errorMessage(Array(#"{"message":"Timeout"}"#.utf8)) == "Timeout")
        #expect(YagnaClient.errorMessage(Array(#"{"internalError":"RPC error"}"#.utf8)) == "RPC error")
        #expect(YagnaClient.errorMessage(Array("Missing application key".utf8)) == "Missing application key")
        #expect(YagnaClient.errorMessage([]) == "(no body)")
    }

    @Test func theAppKeyIsNeverInTheDescription() {
        let configuration = YagnaConfiguration(apiURL: "http://127.0.0.1:7465/", appKey: "s3cret-key")
        #expect(configuration.apiURL == "http://127.0.0.1:7465")
        #expect(!"\(configuration)".contains("s3cret-key"))
        #expect(!String(reflecting: configuration).contains("s3cret-key"))
    }

    // Against the real yagna of scripts/golem-local.

    struct Me: Decodable { var identity: String }

    @Test func meAnswersWithTheNodesIdentity() async throws {
        let net = try GolemLocal.load()
        let client = YagnaClient(configuration: net.requestor, logger: testLogger)
        let me = try await client.json(.GET, "/me", as: Me.self)
        #expect(me.identity == net.requestorId)
    }

    @Test func aWrongAppKeyIsUnauthorized() async throws {
        var configuration = try GolemLocal.load().requestor
        configuration.appKey = "not-a-key"
        let client = YagnaClient(configuration: configuration, logger: testLogger)
        let error = await #expect(throws: YagnaError.self) { try await client.call(.GET, "/me") }
        #expect(error?.code == .unauthorized)
        #expect(error?.description.contains("GET /me") == true)
        #expect(error?.description.contains("not-a-key") == false)
    }

    @Test func aMissingResourceIsNotFound() async throws {
        let client = YagnaClient(configuration: try GolemLocal.load().requestor, logger: testLogger)
        let error = await #expect(throws: YagnaError.self) {
            try await client.call(.GET, "/payment-api/v1/allocations/00000000-0000-0000-0000-000000000000")
        }
        #expect(error?.status == 404 || error?.code == .http(500))
    }

    @Test func aClosedPortIsUnreachableAndTransient() async throws {
        // Port 9 (discard) is closed on loopback here; yagna-offline.md uses it as the dead endpoint.
        let client = YagnaClient(configuration: YagnaConfiguration(apiURL: "http://127.0.0.1:9", appKey: "k", requestTimeout: .seconds(5)), logger: testLogger)
        let error = await #expect(throws: YagnaError.self) { try await client.call(.GET, "/me") }
        #expect(error?.code == .unreachable)
        #expect(error?.isTransient == true)
    }
}
