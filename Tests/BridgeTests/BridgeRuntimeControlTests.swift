import Foundation
import Testing
import GolemJobs
@testable import Bridge

/// `job.<id>.cancel` and `job.<id>.status`.
@Suite struct BridgeRuntimeControlTests {
    static func cancel(_ jobId: String) -> [UInt8] { Array(#"{"reason":"test"}"#.utf8) }

    @Test func cancelBeforeTheJobArrivesKeepsItFromRunning() async throws {
        let harness = try RuntimeHarness()
        await harness.runtime.handleCancel(RuntimeHarness.delivery(1, Self.cancel("early"), routingKey: "job.early.cancel"))
        await harness.submit(2, RuntimeHarness.request("early"))
        await harness.waitForJobsToEnd()

        let events = harness.events(of: "early")
        #expect(events.map(\.kind) == ["created", "canceled", "ended"])
        #expect(events[1].errorCode == "canceled")
        #expect(harness.backend.acquired.isEmpty)
    }

    @Test func cancelStopsARunningJob() async throws {
        let harness = try RuntimeHarness()
        await harness.submit(1, RuntimeHarness.request("running"))
        await harness.backend.waitUntilRunning("running")
        await harness.runtime.handleCancel(RuntimeHarness.delivery(2, Self.cancel("running"), routingKey: "job.running.cancel"))
        await harness.waitForJobsToEnd()

        #expect(harness.events(of: "running").map(\.kind) == ["created", "started", "canceled", "ended"])
    }

    @Test func statusAnswersTheSnapshotOrUnknown() async throws {
        let harness = try RuntimeHarness()
        await harness.submit(1, RuntimeHarness.request("known"))
        await harness.finishWhenRunning("known")

        await harness.runtime.handleStatus(
            RuntimeHarness.delivery(2, [], routingKey: "job.known.status", replyTo: "ask", correlationId: "q-1")
        )
        await harness.runtime.handleStatus(RuntimeHarness.delivery(3, [], routingKey: "job.never.status", replyTo: "ask"))

        let replies = harness.replies(to: "ask")
        #expect(replies.count == 2)
        #expect(replies[0].properties.correlationId == "q-1")
        #expect(RuntimeHarness.json(replies[0].body)["state"] as? String == "done")
        #expect(RuntimeHarness.json(replies[0].body)["attempt"] as? Int == 1)
        #expect(replies[1].properties.correlationId == "never")
        #expect(RuntimeHarness.json(replies[1].body).keys.sorted() == ["jobId", "state"])
        #expect(RuntimeHarness.json(replies[1].body)["state"] as? String == "unknown")
    }
}
