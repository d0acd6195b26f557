#if canImport(Glibc)
import Glibc
#endif
import Foundation
import GolemJobs
import Logging
import Sandbox

/// One attempt on the local machine: a warm sandbox that runs its steps (given back to the pool at
/// release), or a work directory whose steps run in a fresh sandbox each.
struct LocalRental: JobRental {
    let configuration: LocalBackendConfiguration
    let sandbox: Sandbox
    let workDirectory: String
    var warm: WarmSandbox? = nil
    var pool: WarmSandboxPool? = nil

    var provider: ProviderInfo { configuration.provider }

    func run(_ step: WorkStep, index: Int, logger: Logger) async throws -> StepResult {
        try await run(step, index: index, logger: logger, streaming: nil)
    }

    func run(_ step: WorkStep, index: Int, logger: Logger, output: @escaping StepOutputSink) async throws -> StepResult {
        try await run(step, index: index, logger: logger, streaming: output)
    }

    private func run(_ step: WorkStep, index: Int, logger: Logger, streaming output: StepOutputSink?) async throws -> StepResult {
        switch step {
        case .run(let run):
            return try await runCommand(run, index: index, logger: logger, output: output)
        case .uploadData(let to, let bytes):
            try await write(bytes, to: to, index: index, kind: .uploadData)
            return StepResult(index: index, kind: .uploadData)
        case .uploadJson(let to, let json):
            try await write(json, to: to, index: index, kind: .uploadJson)
            return StepResult(index: index, kind: .uploadJson)
        case .downloadData(let from):
            return StepResult(index: index, kind: .downloadData, data: try await read(from, index: index, kind: .downloadData))
        case .downloadJson(let from):
            return StepResult(index: index, kind: .downloadJson, data: try await read(from, index: index, kind: .downloadJson))
        case .transfer(let from, _):
            throw JobError(.commandFailed, "step \(index) (transfer): cannot fetch \(from): transfer needs network; the local backend has none", step: index)
        }
    }

    func release(healthy: Bool) async {
        // Also after a failure or a cancel: the reset finds out whether the job broke the sandbox.
        if let warm, let pool {
            pool.checkin(warm)
        } else {
            await sandbox.releaseWorkDirectory(workDirectory)
        }
    }

    // MARK: - Steps

    private func runCommand(_ run: RunStep, index: Int, logger: Logger, output: StepOutputSink?) async throws -> StepResult {
        let executable: String, arguments: [String]
        switch run.command {
        case .shell(let line): (executable, arguments) = ("/bin/sh", ["-c", line])
        case .exec(let command, let args): (executable, arguments) = (command, args)
        }
        let command = SandboxCommand(
            executable: executable, arguments: arguments, environment: run.env, workDirectory: workDirectory,
            limits: configuration.limits, outputLimit: configuration.outputLimit
        )
        var onOutput: SandboxOutputHandler?
        if let output {
            onOutput = { stream, bytes, cut in output(stream == 2 ? .stderr : .stdout, bytes, cut) }
        }
        let result: SandboxResult
        do {
            if let warm {
                result = try await warm.run(command, logger: logger, onOutput: onOutput)
            } else {
                result = try await sandbox.run(command, logger: logger, onOutput: onOutput)
            }
        } catch let error as SandboxError {
            throw JobError(.providerFailed, "step \(index) (run): \(error.message)", step: index)
        }
        return StepResult.run(
            index: index, exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr,
            stdoutTruncated: result.stdoutTruncated, stderrTruncated: result.stderrTruncated
        )
    }

    /// Writes `bytes` to a path inside `/golem/work`, creating directories; never follows a symlink
    /// (the job may have planted one to reach the host).
    private func write(_ bytes: [UInt8], to path: String, index: Int, kind: StepKind) async throws {
        let label = "step \(index) (\(kind.rawValue))"
        guard bytes.count <= configuration.uploadLimit else {
            throw JobError(.invalidRequest, "\(label): \(bytes.count) bytes exceed the upload limit of \(configuration.uploadLimit)", step: index)
        }
        let components = try WorkPath.components(of: path, label: label, step: index)
        do {
            try await WorkFiles(root: workDirectory).write(bytes, to: components) { [sandbox] in try sandbox.handOver($0) }
        } catch {
            throw JobError(.commandFailed, "\(label): \(error)", step: index)
        }
    }

    /// Reads a file inside `/golem/work`, bounded, never through a symlink.
    private func read(_ path: String, index: Int, kind: StepKind) async throws -> [UInt8] {
        let label = "step \(index) (\(kind.rawValue))"
        let components = try WorkPath.components(of: path, label: label, step: index)
        do {
            return try await WorkFiles(root: workDirectory).read(components, limit: configuration.downloadLimit)
        } catch {
            throw JobError(.commandFailed, "\(label): \(error)", step: index)
        }
    }
}

/// Paths a job names for uploads and downloads: inside `/golem/work` only.
enum WorkPath {
    /// The components below `/golem/work` of `path` (absolute under it, or relative to it).
    /// Rejects `..`, other absolute paths and the work directory itself, with a sentence naming the step.
    static func components(of path: String, label: String, step: Int) throws -> [String] {
        let root = Sandbox.workPath
        var relative: Substring
        if path.hasPrefix("/") {
            guard path == root || path.hasPrefix(root + "/") else {
                throw JobError(.invalidRequest, "\(label): path \(path) is outside \(root)", step: step)
            }
            relative = path.dropFirst(root.count)
        } else {
            relative = Substring(path)
        }
        let components = relative.split(separator: "/").map(String.init).filter { $0 != "." }
        if components.contains("..") {
            throw JobError(.invalidRequest, "\(label): path \(path) must not contain '..'", step: step)
        }
        if components.isEmpty {
            throw JobError(.invalidRequest, "\(label): path \(path) names no file inside \(root)", step: step)
        }
        if path.contains("\0") {
            throw JobError(.invalidRequest, "\(label): path contains a NUL byte", step: step)
        }
        return components
    }
}
