import GolemJobs
import Logging
import Synchronization

/// An in-memory JobBackend whose behaviour each test scripts: pure logic, no processes.
final class FakeBackend: JobBackend {
    typealias Acquire = @Sendable (_ jobId: String, _ attempt: Int) async throws -> Void
    typealias Run = @Sendable (_ jobId: String, _ step: WorkStep, _ index: Int) async throws -> StepResult

    struct Log {
        var acquires: [(jobId: String, attempt: Int)] = []
        var releases: [(jobId: String, healthy: Bool)] = []
        var running: Set<String> = []
    }

    let log = Mutex(Log())
    private let acquireBehaviour: Acquire
    private let runBehaviour: Run

    init(acquire: @escaping Acquire = { _, _ in }, run: @escaping Run = FakeBackend.succeed) {
        self.acquireBehaviour = acquire
        self.runBehaviour = run
    }

    static let succeed: Run = { _, step, index in
        StepResult(index: index, kind: step.kind, exitCode: step.kind == .run ? 0 : nil, stdout: step.kind == .run ? "out\(index)\n" : nil, stderr: step.kind == .run ? "" : nil)
    }

    /// Hangs until the Task is cancelled, then throws CancellationError.
    static func hang() async throws -> Never {
        while true { try await Task.sleep(for: .seconds(3600)) }
    }

    func acquire(jobId: String, spec: JobSpec, attempt: Int, logger: Logger) async throws -> any JobRental {
        log.withLock { $0.acquires.append((jobId, attempt)) }
        try await acquireBehaviour(jobId, attempt)
        return Rental(jobId: jobId, backend: self)
    }

    var acquireCount: Int { log.withLock { $0.acquires.count } }
    var releases: [(jobId: String, healthy: Bool)] { log.withLock { $0.releases } }
    var runningJobs: Set<String> { log.withLock { $0.running } }

    struct Rental: JobRental {
        let jobId: String
        let backend: FakeBackend
        var provider: ProviderInfo { ProviderInfo(id: "fake-\(jobId)", name: "fake") }

        func run(_ step: WorkStep, index: Int, logger: Logger) async throws -> StepResult {
            backend.log.withLock { _ = $0.running.insert(jobId) }
            defer { backend.log.withLock { _ = $0.running.remove(jobId) } }
            return try await backend.runBehaviour(jobId, step, index)
        }

        func release(healthy: Bool) async {
            backend.log.withLock { $0.releases.append((jobId, healthy)) }
        }
    }
}
