@testable import Bridge
import Foundation
import GolemJobs
import MetricsTestKit
import Testing

@Suite struct BridgeMetricsTests {
    @Test func jobsEndedCarryTheOutcomeAndForErrorsTheCode() throws {
        let test = TestMetrics()
        let metrics = BridgeMetrics(factory: test)
        let now = Date()
        metrics.jobEnded(JobEvent(jobId: "a", kind: .success, state: .done, attempt: 1, time: now))
        metrics.jobEnded(JobEvent(jobId: "b", kind: .error, state: .rejected, attempt: 1, time: now, error: JobError(.timeout, "too slow")))
        metrics.jobEnded(JobEvent(jobId: "c", kind: .error, state: .rejected, attempt: 1, time: now, error: JobError(.timeout, "again")))
        metrics.jobEnded(JobEvent(jobId: "d", kind: .canceled, state: .rejected, attempt: 1, time: now, error: JobError(.canceled, "asked")))
        let name = "golem_bridge_jobs_ended_total"
        #expect(test.counterTotal(label: name, dimensions: [("outcome", "success")]) == 1)
        #expect(test.counterTotal(label: name, dimensions: [("outcome", "error"), ("code", "timeout")]) == 2)
        #expect(test.counterTotal(label: name, dimensions: [("outcome", "canceled")]) == 1)
        #expect(test.counterTotal(label: name, dimensions: [("outcome", "error"), ("code", "command_failed")]) == 0)
        // No series names a job.
        #expect(test.counters.allSatisfy { counter in !counter.dimensions.contains { ["a", "b", "c", "d"].contains($0.1) } })
    }

    @Test func rejectionsCountByReasonAndEventsByKnownKindOnly() throws {
        let test = TestMetrics()
        let metrics = BridgeMetrics(factory: test)
        metrics.requestRejected(.notJSON)
        metrics.requestRejected(.notJSON)
        metrics.requestRejected(.schema)
        #expect(test.counterTotal(label: "golem_bridge_requests_rejected_total", dimensions: [("reason", "not_json")]) == 2)
        #expect(test.counterTotal(label: "golem_bridge_requests_rejected_total", dimensions: [("reason", "schema")]) == 1)

        metrics.eventPublished(kind: "ended", confirmedAfter: .milliseconds(3))
        metrics.eventPublished(kind: "job.x.ended", confirmedAfter: .milliseconds(1))
        let events = "golem_bridge_events_published_total"
        #expect(test.counterTotal(label: events, dimensions: [("event", "ended")]) == 1)
        #expect(test.counterTotal(label: events, dimensions: [("event", "unknown")]) == 1)
        let confirms = try test.expectTimer("golem_bridge_event_publish_confirm_seconds")
        #expect(confirms.values == [3_000_000, 1_000_000])
    }

    @Test func jobDurationIsFromAcceptanceToEndedInNanoseconds() throws {
        let test = TestMetrics()
        let metrics = BridgeMetrics(factory: test)
        let accepted = Date(timeIntervalSince1970: 1_000)
        metrics.jobDuration(from: accepted, to: accepted.addingTimeInterval(2.5))
        #expect(try test.expectTimer("golem_bridge_job_duration_seconds").values == [2_500_000_000])
    }
}
