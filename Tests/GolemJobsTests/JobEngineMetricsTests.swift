import GolemJobs
import Logging
import MetricsTestKit
import Testing

@Suite struct JobEngineMetricsTests {
    @Test func gaugesCountJobsHoldingASlotAndJobsWaitingForOne() async throws {
        let metrics = TestMetrics()
        let backend = FakeBackend(run: { _, _, _ in try await FakeBackend.hang() })
        let engine = JobEngine(
            configuration: JobEngineConfiguration(concurrency: 2), backend: backend,
            metrics: JobEngineMetrics(prefix: "test_jobs_", factory: metrics), logger: Logger(label: "test")
        )
        let running = try metrics.expectGauge("test_jobs_running")
        let waiting = try metrics.expectGauge("test_jobs_waiting")
        #expect(running.lastValue == 0 && waiting.lastValue == 0)

        var jobs: [Job] = []
        for i in 0..<3 {
            let job = try await engine.createJob(id: "m\(i)", spec: JobSpec(work: [.run(RunStep(.shell("true")))]))
            job.start()
            jobs.append(job)
        }
        #expect(await eventually { backend.runningJobs.count == 2 })
        #expect(running.lastValue == 2)
        #expect(waiting.lastValue == 1)

        // The waiting job takes the freed slot.
        jobs[0].cancel(reason: "make room")
        #expect(await eventually { backend.runningJobs.count == 2 && waiting.lastValue == 0 })
        #expect(running.lastValue == 2)

        await engine.close()
        #expect(running.lastValue == 0)
        #expect(waiting.lastValue == 0)
    }
}
