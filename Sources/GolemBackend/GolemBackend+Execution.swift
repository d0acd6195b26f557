import Foundation
import GolemJobs
import Logging
import Yagna

extension GolemBackend {
    /// Runs one step on the lease's activity and reads its result.
    func execute(_ step: WorkStep, index: Int, on lease: Lease, logger: Logger) async throws -> StepResult {
        let label = "step \(index) (\(step.kind.rawValue))"
        switch step {
        case .uploadData(_, let bytes), .uploadJson(_, let bytes):
            guard bytes.count <= configuration.transferLimit else {
                throw JobError(.invalidRequest, "\(label): \(bytes.count) bytes exceed the upload limit of \(configuration.transferLimit)", step: index)
            }
        default:
            break
        }
        let commands = StepScript.commands(for: step)
        var results: [ExeScriptCommandResult] = []
        // Large uploads go in batches of at most 8 chunks (≈ 768 KiB of base64 per exec call).
        var start = 0
        while start < commands.count {
            let slice = Array(commands[start..<min(start + 8, commands.count)])
            let batch = try await runBatch(slice, on: lease.activityId, timeout: nil, provider: lease.provider)
            results += batch
            if batch.contains(where: \.isError) || batch.count < slice.count { break }
            start += slice.count
        }
        let failed = results.first(where: \.isError)
        let last = results.last
        switch step {
        case .run:
            guard let last, results.count == commands.count || failed != nil else {
                throw JobError(.providerFailed, "\(label): provider \(lease.provider.name) returned no result", step: index)
            }
            let exitCode: Int32 = failed == nil ? 0 : (StepScript.exitCode(fromMessage: failed?.message) ?? 1)
            var stderr = last.stderr?.string ?? ""
            if failed != nil, StepScript.exitCode(fromMessage: failed?.message) == nil, let message = failed?.message {
                stderr += stderr.isEmpty ? message : "\n" + message
            }
            return StepResult(index: index, kind: .run, exitCode: exitCode, stdout: last.stdout?.string ?? "", stderr: stderr)
        case .uploadData, .uploadJson, .transfer:
            if let failed {
                let cause = [failed.stderr?.string, failed.message].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
                throw JobError(.commandFailed, "\(label) failed on provider \(lease.provider.name): \(cause.isEmpty ? "no message" : cause)", step: index)
            }
            guard results.count == commands.count else {
                throw JobError(.providerFailed, "\(label): provider \(lease.provider.name) returned \(results.count) of \(commands.count) results", step: index)
            }
            return StepResult(index: index, kind: step.kind)
        case .downloadData(let from), .downloadJson(let from):
            if let failed {
                let cause = [failed.stderr?.string, failed.message].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
                throw JobError(.commandFailed, "\(label): cannot read \(from): \(cause.isEmpty ? "no message" : cause)", step: index)
            }
            guard let bytes = StepScript.decodeDownload(last?.stdout?.string) else {
                throw JobError(.providerFailed, "\(label): provider \(lease.provider.name) returned output that is not base64", step: index)
            }
            guard bytes.count <= configuration.transferLimit else {
                throw JobError(.commandFailed, "\(label): \(from) is larger than the download limit of \(configuration.transferLimit) bytes", step: index)
            }
            return StepResult(index: index, kind: step.kind, data: bytes)
        }
    }

    /// Sends a batch and polls its results until every command reported or the batch finished.
    /// The batch runs on at the provider while yagna is away, and polling is idempotent, so transient
    /// failures of the poll (yagna shutting down or restarting, the provider's node rejoining the net)
    /// are retried for up to `outageTolerance`; then the provider counts as failed.
    func runBatch(
        _ commands: [ExeScriptCommand], on activityId: String, timeout: Duration?, provider: ProviderInfo? = nil
    ) async throws -> [ExeScriptCommandResult] {
        let who = provider.map { "provider \($0.name)" } ?? "the provider"
        let batchId: String
        do {
            batchId = try await client.exec(activityId, script: commands)
        } catch let error as YagnaError {
            throw JobError(.providerFailed, "\(who) did not take the commands: \(error)")
        }
        let clock = ContinuousClock()
        let deadline = timeout.map { clock.now + $0 }
        var retry = TransientRetry(window: configuration.outageTolerance)
        var seen = -1
        while true {
            try Task.checkCancellation()
            if let deadline, clock.now >= deadline {
                throw JobError(.providerFailed, "\(who) did not finish within \(timeout!)")
            }
            let started = clock.now
            do {
                let answer = try await client.batchResults(activityId, batchId: batchId, timeout: configuration.pollInterval)
                retry.succeeded()
                if let results = answer {
                    if results.count >= commands.count || results.contains(where: { $0.isBatchFinished }) {
                        return results.sorted { $0.index < $1.index }
                    }
                    // An answer before the wait with nothing new: do not spin.
                    if results.count - 1 <= seen, clock.now - started < .milliseconds(50) {
                        try await Task.sleep(for: .milliseconds(100))
                    }
                    seen = results.count - 1
                }
            } catch let error as YagnaError {
                guard error.isTransient, let pause = retry.failed(started: started, now: clock.now) else {
                    throw JobError(.providerFailed, "\(who) is unreachable or failed while running: \(error)")
                }
                if retry.failures == 1 {
                    logger.info("batch results unreadable; polling again", metadata: ["activity": "\(activityId)", "error": "\(error)"])
                }
                try await Task.sleep(for: pause)
            }
        }
    }

    /// Before a rental is lent again: its activity must be Ready, and the work folder is emptied so
    /// one job never sees another's files.
    func validate(_ lease: Lease, logger: Logger) async -> Bool {
        do {
            let state = try await client.activityState(lease.activityId)
            guard state.current == "Ready" else {
                logger.info("a pooled rental is no longer ready", metadata: ["activity": "\(lease.activityId)", "state": "\(state.current)"])
                return false
            }
            let clean = ExeScriptCommand.run(entryPoint: "/bin/sh", args: ["-c", "rm -rf /golem/work/* /golem/work/.[!.]* /golem/work/..?* 2>/dev/null; exit 0"], capture: .whole)
            let results = try await runBatch([clean], on: lease.activityId, timeout: configuration.deployTimeout, provider: lease.provider)
            return results.count == 1 && !results[0].isError
        } catch {
            logger.info("a pooled rental failed validation", metadata: ["activity": "\(lease.activityId)", "error": "\(error)"])
            return false
        }
    }
}
