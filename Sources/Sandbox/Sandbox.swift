import BlockingWork
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging

/// Runs commands in bubblewrap: the host's system directories read-only, a per-job directory
/// read-write at `/golem/work` (also the cwd), a private `/tmp`, every namespace unshared (no
/// network, own PIDs), an unprivileged uid, and resource limits.
///
/// Cancelling the calling Task, or the command's timeout, SIGKILLs bwrap and the sandbox's PID 1
/// (reported on `--info-fd`), which ends the sandbox's PID namespace and with it every process the
/// command started. `run` returns only after bwrap was reaped.
public struct Sandbox: Sendable {
    /// Where the job's directory is mounted inside.
    public static let workPath = "/golem/work"

    public var configuration: SandboxConfiguration

    public init(configuration: SandboxConfiguration = SandboxConfiguration()) {
        self.configuration = configuration
    }

    /// Runs `command` to its end. A non-zero exit is a result, not an error; throws `SandboxError`
    /// when it cannot start, `CancellationError` when the Task was cancelled (after the kill).
    /// `onOutput` is told the output as it is read (see ``SandboxOutputHandler``).
    public func run(_ command: SandboxCommand, logger: Logger, onOutput: SandboxOutputHandler? = nil) async throws -> SandboxResult {
        try Task.checkCancellation()
        // stat, readlink and vfork + exec of bwrap block their thread: made on BlockingIO. A task
        // cancelled meanwhile kills the process at once below.
        let process = try await BlockingIO.run { try spawn(command) }
        logger.debug("sandbox started", metadata: ["sandbox.pid": "\(process.pid)", "sandbox.command": "\(command.executable)"])
        let termination = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<ChildProcess.Termination, Never>) in
                process.monitor(outputLimit: command.outputLimit, timeout: command.timeout, onOutput: onOutput) { termination in
                    continuation.resume(returning: termination)
                }
            }
        } onCancel: {
            process.kill()
        }
        logger.debug("sandbox ended", metadata: ["sandbox.pid": "\(process.pid)", "sandbox.exit": "\(termination.exitCode)"])
        try Task.checkCancellation()
        return SandboxResult(
            exitCode: termination.exitCode, stdout: termination.stdout, stderr: termination.stderr,
            stdoutTruncated: termination.stdoutTruncated, stderrTruncated: termination.stderrTruncated,
            timedOut: termination.timedOut
        )
    }

    private func spawn(_ command: SandboxCommand) throws -> ChildProcess {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: command.workDirectory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw SandboxError("work directory \(command.workDirectory) does not exist")
        }
        let (uid, gid) = hostIds(for: command.workDirectory)
        return try ChildProcess.spawn(
            executable: configuration.bwrapPath, arguments: bwrapArguments(for: command),
            environment: Self.environment(for: command), limits: command.limits.resourceLimits,
            dropTo: uid != geteuid() || gid != getegid() ? (uid, gid) : nil,
            infoDescriptor: true
        )
    }

    /// The host uid and gid the sandbox runs as when no work directory says otherwise:
    /// `hostUid`/`hostGid` when this process is root, else its own.
    public var effectiveHostIds: (uid: UInt32, gid: UInt32) {
        if geteuid() == 0, let uid = configuration.hostUid, let gid = configuration.hostGid { return (uid, gid) }
        return (geteuid(), getegid())
    }

    /// The ids a command in `workDirectory` runs as: the directory's own uid when
    /// ``prepareWorkDirectory(_:)`` gave it one from the pool, else ``effectiveHostIds``.
    func hostIds(for workDirectory: String) -> (uid: UInt32, gid: UInt32) {
        var info = stat()
        if geteuid() == 0, stat(workDirectory, &info) == 0, HostIdPool.shared.contains(info.st_uid) {
            return (info.st_uid, info.st_uid)
        }
        return effectiveHostIds
    }

    /// Creates `path` (and its parents) if needed and, as root, hands it to a host uid of its own from
    /// the pool (so the job's process limit is its own), else to ``effectiveHostIds``. Give it back
    /// with ``releaseWorkDirectory(_:)``. Runs on ``BlockingIO``.
    public func prepareWorkDirectory(_ path: String) async throws {
        try await BlockingIO.run { try createWorkDirectory(path) }
    }

    private func createWorkDirectory(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        if geteuid() == 0, configuration.hostUid != nil, let uid = HostIdPool.shared.acquire() {
            guard lchown(path, uid, uid) == 0 else {
                HostIdPool.shared.release(uid)
                throw SandboxError("cannot hand \(path) to uid \(uid): \(String(cString: strerror(errno)))")
            }
            return
        }
        try handOver(path)
    }

    /// Removes a work directory and returns its uid to the pool. Call it once nothing runs in it.
    /// Runs on ``BlockingIO``, also when the calling task is cancelled.
    public func releaseWorkDirectory(_ path: String) async {
        await BlockingIO.run { removeWorkDirectory(path) }
    }

    private func removeWorkDirectory(_ path: String) {
        var info = stat()
        let owner: UInt32? = stat(path, &info) == 0 ? info.st_uid : nil
        try? FileManager.default.removeItem(atPath: path)
        if let owner, HostIdPool.shared.contains(owner) { HostIdPool.shared.release(owner) }
    }

    /// Gives a file or directory the host puts into a work directory to the sandbox's host uid.
    public func handOver(_ path: String) throws {
        let (uid, gid) = hostIds(for: (path as NSString).deletingLastPathComponent)
        guard uid != geteuid() || gid != getegid() else { return }
        guard lchown(path, uid, gid) == 0 else {
            throw SandboxError("cannot hand \(path) to uid \(uid): \(String(cString: strerror(errno)))")
        }
    }

    /// The bwrap command line (after `bwrap`) for `command`.
    public func bwrapArguments(for command: SandboxCommand) -> [String] {
        mountArguments(workDirectory: command.workDirectory) + ["--", command.executable] + command.arguments
    }

    /// bwrap's options up to the command: namespaces, ids, `--info-fd 3`, mounts, limits of the view.
    func mountArguments(workDirectory: String) -> [String] {
        var arguments = [
            "--unshare-all", "--unshare-user",
            "--uid", "\(configuration.uid)", "--gid", "\(configuration.gid)",
            "--die-with-parent", "--new-session", "--info-fd", "3",
            "--hostname", configuration.hostname,
        ]
        let files = FileManager.default
        for path in configuration.readOnlyPaths {
            if let target = try? files.destinationOfSymbolicLink(atPath: path) {
                arguments += ["--symlink", target, path]
            } else if files.fileExists(atPath: path) {
                arguments += ["--ro-bind", path, path]
            }
        }
        arguments += [
            "--proc", "/proc",
            "--dev", "/dev",
            "--tmpfs", "/tmp",
            "--dir", "/golem",
            "--bind", workDirectory, Self.workPath,
            "--remount-ro", "/",
            "--chdir", Self.workPath,
        ]
        return arguments
    }

    /// The command's environment: the sandbox's base (PATH, HOME, TMPDIR, LANG) and its own.
    static func environment(for command: SandboxCommand) -> [String: String] {
        var environment = [
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": workPath,
            "TMPDIR": "/tmp",
            "LANG": "C.UTF-8",
        ]
        for (key, value) in command.environment where !key.isEmpty && !key.contains("=") && !key.contains("\0") && !value.contains("\0") {
            environment[key] = value
        }
        return environment
    }
}
