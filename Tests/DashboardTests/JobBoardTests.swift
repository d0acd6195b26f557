import Dashboard
import Foundation
import GolemJobs
import Testing

@Suite struct JobBoardTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func event(_ id: String, _ kind: JobEvent.Kind, _ state: JobState, attempt: Int = 1, at seconds: Double = 0, error: JobError? = nil) -> JobEvent {
        JobEvent(
            jobId: id, kind: kind, state: state, attempt: attempt, time: t0.addingTimeInterval(seconds),
            provider: kind == .started ? ProviderInfo(id: "0xabc", name: "local") : nil, error: error
        )
    }

    static func run(_ board: JobBoard, _ id: String, outcome: JobEvent.Kind, labels: [String: String] = [:], endAt: Double = 2) {
        board.record(event(id, .created, .new, attempt: 0), labels: labels)
        board.record(event(id, .started, .pending, at: 0.5), labels: labels)
        let error = outcome == .success ? nil : JobError(outcome == .canceled ? .canceled : .commandFailed, "boom")
        board.record(event(id, outcome, outcome == .success ? .done : .rejected, at: endAt, error: error), labels: labels)
        board.record(event(id, .ended, outcome == .success ? .done : .rejected, at: endAt), labels: labels)
    }

    @Test func followsAJobThroughItsPhasesWithProviderAttemptAndDuration() {
        let board = JobBoard()
        board.record(Self.event("a", .created, .new, attempt: 0), labels: ["team": "x"])
        #expect(board.job(id: "a")?.phase == .waiting)
        board.record(Self.event("a", .started, .pending, at: 1), labels: ["team": "x"])
        let running = board.job(id: "a")
        #expect(running?.phase == .running)
        #expect(running?.provider == "local")
        #expect(running?.attempt == 1)
        board.record(Self.event("a", .success, .done, at: 3), labels: ["team": "x"])
        board.record(Self.event("a", .ended, .done, at: 3), labels: ["team": "x"])
        let done = board.job(id: "a")
        #expect(done?.phase == .succeeded)
        #expect(done?.duration(now: Self.t0.addingTimeInterval(100)) == 3)
        #expect(done?.timeline.map(\.kind) == [.created, .started, .success, .ended])
    }

    @Test func listsARejectedRequestAsFailedOnceEvenWhenItsEventsRepeat() {
        let board = JobBoard()
        let invalid = JobError(.invalidRequest, "work[0]: unknown step kind \"fly\"")
        for _ in 0..<2 {
            board.record(Self.event("r", .error, .rejected, attempt: 0, error: invalid), labels: [:])
            board.record(Self.event("r", .ended, .rejected, attempt: 0), labels: [:])
        }
        let entry = board.job(id: "r")
        #expect(entry?.phase == .failed)
        #expect(entry?.error?.contains("invalid_request") == true)
        #expect(entry?.timeline.map(\.kind) == [.error, .ended])
        #expect(board.jobs().map(\.jobId) == ["r"])
    }

    @Test func filtersByPhaseAndLabelNewestFirst() {
        let board = JobBoard()
        Self.run(board, "ok", outcome: .success, labels: ["team": "a"])
        Self.run(board, "bad", outcome: .error, labels: ["team": "b"])
        Self.run(board, "stop", outcome: .canceled, labels: ["team": "a"])
        board.record(Self.event("wait", .created, .new, attempt: 0), labels: ["team": "a"])
        #expect(board.jobs().map(\.jobId) == ["wait", "stop", "bad", "ok"])
        #expect(board.jobs(JobFilter(phases: [.failed, .canceled])).map(\.jobId) == ["stop", "bad"])
        #expect(board.jobs(JobFilter(labels: ["team": "a"])).map(\.jobId) == ["wait", "stop", "ok"])
        #expect(board.jobs(JobFilter(phases: [.waiting], labels: ["team": "b"])).isEmpty)
        #expect(board.jobs(JobFilter(limit: 2)).count == 2)
        #expect(board.counts() == [.succeeded: 1, .failed: 1, .canceled: 1, .waiting: 1])
    }

    @Test func keepsAtMostTheLimitForgettingTheOldestFinishedFirst() {
        var limits = JobBoard.Limits()
        limits.jobs = 3
        let board = JobBoard(limits: limits)
        board.record(Self.event("old-running", .created, .new, attempt: 0), labels: [:])
        Self.run(board, "old-done", outcome: .success)
        Self.run(board, "new-done", outcome: .success)
        Self.run(board, "newest", outcome: .success)
        #expect(Set(board.jobs().map(\.jobId)) == ["old-running", "new-done", "newest"])
    }

    @Test func boundsATimelineButKeepsItsOutcomeAndEnd() {
        var limits = JobBoard.Limits()
        limits.timelineLength = 3
        let board = JobBoard(limits: limits)
        board.record(Self.event("a", .created, .new, attempt: 0), labels: [:])
        board.record(Self.event("a", .started, .pending), labels: [:])
        for _ in 0..<5 { board.record(Self.event("a", .progress, .pending), labels: [:]) }
        board.record(Self.event("a", .success, .done), labels: [:])
        board.record(Self.event("a", .ended, .done), labels: [:])
        let job = board.job(id: "a")
        #expect(job?.timeline.map(\.kind) == [.created, .started, .progress, .success, .ended])
        #expect(job?.droppedSteps == 4)
    }

    @Test func liveFeedDeliversEventsOfTheJobAskedFor() async {
        let board = JobBoard()
        let all = board.subscribe()
        let one = board.subscribe(jobId: "b")
        Self.run(board, "a", outcome: .success)
        Self.run(board, "b", outcome: .error)
        board.closeSubscriptions()
        var allKinds: [String] = []
        for await update in all { allKinds.append("\(update.job.jobId):\(update.step.kind.rawValue)") }
        var oneKinds: [String] = []
        for await update in one { oneKinds.append("\(update.job.jobId):\(update.step.kind.rawValue):\(update.job.phase.rawValue)") }
        #expect(allKinds.count == 8)
        #expect(oneKinds == ["b:created:waiting", "b:started:running", "b:error:failed", "b:ended:failed"])
        #expect(board.subscriberCount == 0)
    }

    @Test func aSubscriberThatFallsBehindIsDroppedNotBufferedForever() async {
        var limits = JobBoard.Limits()
        limits.subscriberBuffer = 4
        let board = JobBoard(limits: limits)
        let slow = board.subscribe()
        for index in 0..<10 { board.record(Self.event("j\(index)", .created, .new, attempt: 0), labels: [:]) }
        #expect(board.subscriberCount == 0)
        var received = 0
        for await _ in slow { received += 1 }
        #expect(received == 4)
    }

    @Test func countsEndsPerMinuteWithLatency() {
        let board = JobBoard()
        Self.run(board, "a", outcome: .success, endAt: 2)
        Self.run(board, "b", outcome: .error, endAt: 4)
        Self.run(board, "c", outcome: .canceled, endAt: 90)
        let hour = board.lastHour(endingAt: Self.t0.addingTimeInterval(120))
        #expect(hour.count == 60)
        let firstMinute = hour.first { $0.succeeded == 1 }
        #expect(firstMinute?.failed == 1)
        #expect(firstMinute?.latencyMean == 3)
        #expect(firstMinute?.latencyMax == 4)
        #expect(hour.reduce(0) { $0 + $1.canceled } == 1)
    }
}
