import AMQP
import Foundation
import Testing
import GolemJobs
@testable import Bridge

/// Taking job requests: journal, ack, run; duplicates; bad input; a failing journal.
@Suite struct BridgeRuntimeIntakeTests {
    @Test func validRequestIsJournaledAckedAndRunWithEveryEvent() async throws {
        let harness = try RuntimeHarness()
        await harness.submit(1, RuntimeHarness.request("ok"), replyTo: "client", correlationId: "c-1")
        #expect(harness.acks[1] == .ack)
        #expect(try await harness.journal.job(jobId: "ok") != nil)

        await harness.finishWhenRunning("ok")

        let events = harness.events(of: "ok")
        #expect(events.map(\.kind) == ["created", "started", "progress", "success", "ended"])
        #expect(events.map(\.sequence) == [1, 2, 3, 4, 5])
        let replies = harness.replies(to: "client")
        #expect(replies.map { RuntimeHarness.event($0).id } == events.map(\.id))
        #expect(replies.allSatisfy { $0.properties.correlationId == "c-1" })
        await harness.flushMarks()
        #expect(try await harness.journal.unpublishedEvents().isEmpty)
    }

    @Test func duplicateIsAckedNotRunAgainAndAnsweredWithTheSnapshot() async throws {
        let harness = try RuntimeHarness()
        await harness.submit(1, RuntimeHarness.request("twice"))
        await harness.finishWhenRunning("twice")
        await harness.submit(2, RuntimeHarness.request("twice"), replyTo: "again")

        #expect(harness.acks[2] == .ack)
        let reply = try #require(harness.replies(to: "again").first)
        #expect(RuntimeHarness.json(reply.body)["jobId"] as? String == "twice")
        #expect(RuntimeHarness.json(reply.body)["state"] as? String == "done")
        #expect(harness.backend.acquired == ["twice"])
        #expect(harness.events(of: "twice").filter { $0.kind == "ended" }.count == 1)
    }

    @Test func requestThatIsNotJSONIsDeadLetteredAndAcked() async throws {
        let harness = try RuntimeHarness()
        await harness.submit(1, Array("not json".utf8))

        #expect(harness.acks[1] == .ack)
        let dead = try #require(harness.publisher.messages(to: harness.names.deadExchange).first)
        #expect(dead.properties.headers["x-golem-error-code"] == .string("not_json"))
        #expect(dead.body == Array("not json".utf8))
        #expect(harness.publisher.messages(to: harness.names.eventsExchange).isEmpty)
    }

    @Test func journalFailureRequeuesTheRequestAndRunsNothing() async throws {
        let harness = try RuntimeHarness(clock: ImmediateClock(), journal: { FailingJournal($0) })
        await harness.submit(1, RuntimeHarness.request("unjournaled"))

        #expect(harness.acks[1] == .nack(requeue: true))
        #expect(try await harness.journal.job(jobId: "unjournaled") == nil)
        #expect(harness.publisher.messages.isEmpty)
        // Its permit came back: the bridge's one slot takes the next request.
        (harness.runtime.journal as? FailingJournal)?.failing = false
        await harness.submit(2, RuntimeHarness.request("next"))
        #expect(harness.acks[2] == .ack)
        await harness.runtime.drain(grace: .zero)
    }

    // MARK: Rejected requests

    static let badBody = Array(#"{"jobId":"bad-1","work":[]}"#.utf8)

    @Test func badRequestWithAJobIdTellsItsSubscribersThroughTheJournal() async throws {
        let harness = try RuntimeHarness()
        await harness.submit(1, Self.badBody, replyTo: "client")

        #expect(harness.acks[1] == .ack)
        #expect(harness.publisher.messages(to: harness.names.deadExchange).count == 1)
        let events = harness.events(of: "bad-1")
        #expect(events.map(\.kind) == ["error", "ended"])
        #expect(events.map(\.errorCode) == ["invalid_request", "invalid_request"])
        #expect(events.map(\.sequence) == [1, 2])
        #expect(harness.replies(to: "client").count == 2)
        await harness.flushMarks()
        #expect(try await harness.journal.unpublishedEvents().isEmpty)
    }

    @Test func badRequestIsNotAckedBeforeItsEventsAreJournaled() async throws {
        let harness = try RuntimeHarness(clock: ImmediateClock(), journal: { FailingJournal($0) })
        await harness.submit(1, Self.badBody)

        #expect(harness.acks[1] == .nack(requeue: true))
        #expect(harness.publisher.messages.isEmpty)
    }

    @Test func redeliveredBadRequestKeepsItsEventIds() async throws {
        let first = try RuntimeHarness()
        // The bridge stopped after journaling the events, before the broker confirmed them.
        first.publisher.failing = true
        let stopped = Task { await first.submit(1, Self.badBody) }
        while try await first.journal.unpublishedEvents().count < 2 { await Task.yield() }
        stopped.cancel()
        await stopped.value
        first.publisher.failing = false

        // The broker delivers the request again: the journaled events go out, with their ids.
        await first.submit(2, Self.badBody)
        let ids = first.events(of: "bad-1").map(\.id)
        #expect(ids.count == 2)
        #expect(first.acks[2] == .ack)

        // Once confirmed, another delivery of it sends them again, with the same ids.
        await first.flushMarks()
        await first.submit(3, Self.badBody)
        #expect(first.events(of: "bad-1").map(\.id) == ids + ids)

        // Another bridge makes the same ids for the same request.
        let other = try RuntimeHarness()
        await other.submit(1, Self.badBody)
        #expect(other.events(of: "bad-1").map(\.id) == ids)
    }

    @Test func resentBadRequestIsToldAgainOnItsNewReplyQueue() async throws {
        let harness = try RuntimeHarness()
        await harness.submit(1, Self.badBody, replyTo: "first-wait", correlationId: "c1")
        await harness.flushMarks()
        // The client gave up waiting and resends the same request, now waiting on another queue.
        await harness.submit(2, Self.badBody, replyTo: "second-wait", correlationId: "c2")
        let first = harness.replies(to: "first-wait")
        let second = harness.replies(to: "second-wait")
        #expect(second.map { RuntimeHarness.event($0).kind } == ["error", "ended"])
        #expect(second.map { RuntimeHarness.event($0).id } == first.map { RuntimeHarness.event($0).id })
        #expect(second.allSatisfy { $0.properties.correlationId == "c2" })
        #expect(harness.acks[2] == .ack)
    }

    @Test func rejectedJobIdIsUnknownAndALaterValidRequestRuns() async throws {
        let harness = try RuntimeHarness()
        await harness.submit(1, Self.badBody)
        await harness.runtime.handleStatus(RuntimeHarness.delivery(2, [], routingKey: "job.bad-1.status", replyTo: "ask"))
        let status = try #require(harness.replies(to: "ask").first)
        #expect(RuntimeHarness.json(status.body)["state"] as? String == "unknown")

        await harness.submit(3, RuntimeHarness.request("bad-1"))
        #expect(harness.acks[3] == .ack)
        await harness.finishWhenRunning("bad-1")
        #expect(harness.events(of: "bad-1").map(\.kind) == ["error", "ended", "created", "started", "progress", "success", "ended"])
    }

    @Test func badRequestForAnAcceptedJobAddsNoSecondOutcome() async throws {
        let harness = try RuntimeHarness()
        await harness.submit(1, RuntimeHarness.request("bad-1"))
        await harness.finishWhenRunning("bad-1")
        let before = harness.events(of: "bad-1")

        await harness.submit(2, Self.badBody)
        #expect(harness.acks[2] == .ack)
        #expect(harness.publisher.messages(to: harness.names.deadExchange).count == 1)
        #expect(harness.events(of: "bad-1") == before)
    }
}
