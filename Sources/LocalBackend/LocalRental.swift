#if canImport(Glibc)
import Glibc
#endif
import Foundation
import GolemJobs
import Logging
import Sandbox

/// One attempt on the local machine: a work directory, steps run in a fresh sandbox each.
struct LocalRental: JobRental {
    let configuration: LocalBackendConfiguration
    let sandbox: Sandbox
    let workDirectory: String

    var provider: ProviderInfo { configuration.provider }

    func run(_ step: WorkStep, index: Int, logger: Logger) async throws -> StepResult {
        switch step {
        case .run(let run):
            return try await runCommand(run, index: index, logger: logger)
        case .uploadData(let to, let bytes):
            try write(bytes, to: to, index: index, kind: .uploadData)
            return StepResult(index: index, kind: .uploadData)
        case .uploadJson(let to, let json):
            try write(json, to: to, index: index, kind: .uploadJson)
            return StepResult(index: index, kind: .uploadJson)
        case .downloadData(let from):
            return StepResult(index: index, kind: .downloadData, data: try read(from, index: index, kind: .downloadData))
        case .downloadJson(let from):
            return StepResult(index: index, kind: .downloadJson, data: try read(from, index: index, kind: .downloadJson))
        case .transfer(let from, _):
            throw JobError(.commandFailed, "step \(index) (transfer): cannot fetch \(from): transfer needs network; the local backend has none", step: index)
        }
    }

    func release(healthy: Bool) async {
        sandbox.releaseWorkDirectory(workDirectory)
    }

    // MARK: - Steps

    private func runCommand(_ run: RunStep, index: Int, logger: Logger) async throws -> StepResult {
        let executable: String, arguments: [String]
        switch run.command {
        case .shell(let line): (executable, arguments) = ("/bin/sh", ["-c", line])
        case .exec(let command, let args): (executable, arguments) = (command, args)
        }
        let command = SandboxCommand(
            executable: executable, arguments: arguments, environment: run.env, workDirectory: workDirectory,
            limits: configuration.limits, outputLimit: configuration.outputLimit
        )
        let result: SandboxResult
        do {
            result = try await sandbox.run(command, logger: logger)
        } catch let error as SandboxError {
            throw JobError(.providerFailed, "step \(index) (run): \(error.message)", step: index)
        }
        return StepResult(
            index: index, kind: .run, exitCode: result.exitCode,
            stdout: String(decoding: result.stdout, as: UTF8.self), stderr: String(decoding: result.stderr, as: UTF8.self),
            outputTruncated: result.stdoutTruncated || result.stderrTruncated
        )
    }

    /// Writes `bytes` to a path inside `/golem/work`, creating directories; never follows a symlink
    /// (the job may have planted one to reach the host).
    private func write(_ bytes: [UInt8], to path: String, index: Int, kind: StepKind) throws {
        let label = "step \(index) (\(kind.rawValue))"
        guard bytes.count <= configuration.uploadLimit else {
            throw JobError(.invalidRequest, "\(label): \(bytes.count) bytes exceed the upload limit of \(configuration.uploadLimit)", step: index)
        }
        let components = try WorkPath.components(of: path, label: label, step: index)
        var directory = workDirectory
        for component in components.dropLast() {
            directory += "/\(component)"
            var info = stat()
            if lstat(directory, &info) == 0 {
                guard info.st_mode & S_IFMT == S_IFDIR else {
                    throw JobError(.commandFailed, "\(label): \(path): a path component is not a directory", step: index)
                }
            } else {
                guard mkdir(directory, 0o755) == 0 else { throw posixError(label, path, index) }
                try? sandbox.handOver(directory)
            }
        }
        let file = "\(workDirectory)/\(components.joined(separator: "/"))"
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw posixError(label, path, index) }
        defer { close(fd) }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                throw posixError(label, path, index)
            }
            written += n
        }
        try? sandbox.handOver(file)
    }

    /// Reads a file inside `/golem/work`, bounded, never through a symlink.
    private func read(_ path: String, index: Int, kind: StepKind) throws -> [UInt8] {
        let label = "step \(index) (\(kind.rawValue))"
        let components = try WorkPath.components(of: path, label: label, step: index)
        var directory = workDirectory
        for component in components.dropLast() {
            directory += "/\(component)"
            var info = stat()
            guard lstat(directory, &info) == 0 else { throw posixError(label, path, index) }
            guard info.st_mode & S_IFMT == S_IFDIR else {
                throw JobError(.commandFailed, "\(label): \(path): a path component is not a directory", step: index)
            }
        }
        let file = "\(workDirectory)/\(components.joined(separator: "/"))"
        let fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw posixError(label, path, index) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw JobError(.commandFailed, "\(label): \(path) is not a regular file", step: index)
        }
        let limit = configuration.downloadLimit
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw posixError(label, path, index)
            }
            if n == 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
            if bytes.count > limit {
                throw JobError(.commandFailed, "\(label): \(path) is larger than the download limit of \(limit) bytes", step: index)
            }
        }
        return bytes
    }

    private func posixError(_ label: String, _ path: String, _ index: Int) -> JobError {
        JobError(.commandFailed, "\(label): \(path): \(String(cString: strerror(errno)))", step: index)
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
