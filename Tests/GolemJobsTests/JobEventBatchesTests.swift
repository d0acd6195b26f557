import Foundation
@testable import GolemJobs
import Logging
import Testing

@Suite struct JobEventBatchesTests {
    private func engine(_ backend: FakeBackend) -> JobEngine {
        JobEngine(configuration: JobEngineConfiguration(concurrency: 4), backend: backend, clock: ManualClock(), logger: Logger(label: "test"))
    }

    private func spec(steps: Int) -> JobSpec {
        JobSpec(work: (0..<steps).map { _ in .run(RunStep(.shell("true"))) })
    }

    @Test func batchesReplayThenFollowInOrderKeepAStepsEventsTogetherAndEndAfterEnded() async throws {
        let job = try await engine(FakeBackend()).createJob(id: "b", spec: spec(steps: 2))
        let batches = job.eventBatches
        job.start()
        var all: [[JobEvent.Kind]] = []
        while let batch = await batches.next() { all.append(batch.map(\.kind)) }
        #expect(all.flatMap { $0 } == [.created, .started, .progress, .progress, .success, .ended])
        #expect(all.flatMap { $0 } == job.history.map(\.kind))
        // The last step's turn emits its progress and the outcome: one batch, one wake-up.
        #expect(all.contains { batch in
            guard let success = batch.firstIndex(of: .success) else { return false }
            return success > 0 && batch[success - 1] == .progress
        })
        #expect(await batches.next() == nil)
    }

    @Test func aSubscriptionAfterTheEndGetsTheWholeHistoryThenNil() async throws {
        let job = try await engine(FakeBackend()).createJob(id: "late", spec: spec(steps: 1))
        job.start()
        _ = try await job.waitForResult()
        while !job.isFinished { await Task.yield() }
        let batches = job.eventBatches
        let first = await batches.next()
        #expect(first?.map(\.kind) == job.history.map(\.kind))
        #expect(await batches.next() == nil)
    }

    @Test func aCancelledReaderGetsNil() async throws {
        let job = try await engine(FakeBackend(run: { _, _, _ in try await FakeBackend.hang() })).createJob(id: "hang", spec: spec(steps: 1))
        let batches = job.eventBatches
        #expect(await batches.next()?.map(\.kind) == [.created])
        let reader = Task { await batches.next() }
        reader.cancel()
        #expect(await reader.value == nil)
        job.cancel()
    }
}
