import GolemJobs
import Logging
import Synchronization

/// A JobBackend whose steps run until the test lets them finish (or the job is stopped), and which
/// tells the test when a job's step is running: the bridge's core under test, no processes.
final class HoldingBackend: JobBackend {
    private struct State {
        var acquired: [String] = []
        var held: [String: CheckedContinuation<Void, any Error>] = [:]
        var finishedEarly: Set<String> = []
        var ran: Set<String> = []
        var runWaiters: [String: [CheckedContinuation<Void, Never>]] = [:]
    }

    private let state = Mutex(State())

    /// The jobs a provider was acquired for, in order.
    var acquired: [String] { state.withLock { $0.acquired } }

    /// Lets the job's running step (or its next one) succeed.
    func finish(_ jobId: String) {
        let waiter = state.withLock { state in
            let waiter = state.held.removeValue(forKey: jobId)
            if waiter == nil { state.finishedEarly.insert(jobId) }
            return waiter
        }
        waiter?.resume()
    }

    /// Waits until a step of `jobId` runs (returns at once if one did).
    func waitUntilRunning(_ jobId: String) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ran = state.withLock { state in
                if state.ran.contains(jobId) { return true }
                state.runWaiters[jobId, default: []].append(continuation)
                return false
            }
            if ran { continuation.resume() }
        }
    }

    func acquire(jobId: String, spec: JobSpec, attempt: Int, logger: Logger) async throws -> any JobRental {
        state.withLock { $0.acquired.append(jobId) }
        return Rental(jobId: jobId, backend: self)
    }

    fileprivate func hold(_ jobId: String) async throws {
        let waiters = state.withLock { state in
            state.ran.insert(jobId)
            return state.runWaiters.removeValue(forKey: jobId) ?? []
        }
        for waiter in waiters { waiter.resume() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let now = state.withLock { state -> Result<Void, any Error>? in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if state.finishedEarly.remove(jobId) != nil { return .success(()) }
                    state.held[jobId] = continuation
                    return nil
                }
                if let now { continuation.resume(with: now) }
            }
        } onCancel: {
            state.withLock { $0.held.removeValue(forKey: jobId) }?.resume(throwing: CancellationError())
        }
    }

    struct Rental: JobRental {
        let jobId: String
        let backend: HoldingBackend
        var provider: ProviderInfo { ProviderInfo(id: "held-\(jobId)", name: "held") }

        func run(_ step: WorkStep, index: Int, logger: Logger) async throws -> StepResult {
            try await backend.hold(jobId)
            return StepResult(index: index, kind: step.kind, exitCode: 0, stdout: "", stderr: "")
        }

        func release(healthy: Bool) async {}
    }
}
