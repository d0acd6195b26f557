import GolemLocalTestSupport
import Testing
@testable import Yagna

/// ``YagnaClient/batchEvents(_:batchId:maxEventBytes:)`` against the real yagna of scripts/golem-local.
/// A batch that streams is in GolemBackendTests (GolemBackendStreamingTests): it needs a provider.
@Suite(.enabled(if: GolemLocal.providerCount > 0))
struct YagnaClientBatchEventsTests {
    func firstError(_ client: YagnaClient) async -> YagnaError? {
        do {
            for try await event in client.batchEvents("00000000000000000000000000000000", batchId: "none") {
                Issue.record("an event for no batch: \(event)")
            }
            Issue.record("the stream of an unknown activity ended without an error")
            return nil
        } catch {
            return error as? YagnaError
        }
    }

    @Test func anUnknownActivitysStreamFailsWithYagnasMessage() async throws {
        let client = YagnaClient(configuration: try GolemLocal.load().requestor, logger: testLogger)
        let error = await firstError(client)
        #expect(error?.call == "GET /activity-api/v1/activity/00000000000000000000000000000000/exec/none (events)")
        #expect(error?.message.contains("Not found") == true, "\(String(describing: error))")
    }

    @Test func aWrongAppKeyIsUnauthorizedAndNotInTheError() async throws {
        var configuration = try GolemLocal.load().requestor
        configuration.appKey = "not-a-key"
        let error = await firstError(YagnaClient(configuration: configuration, logger: testLogger))
        #expect(error?.code == .unauthorized)
        #expect(error?.description.contains("not-a-key") == false)
    }
}
