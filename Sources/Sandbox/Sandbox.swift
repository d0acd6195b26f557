#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging

/// Runs commands in bubblewrap: the host's system directories read-only, a per-job directory
/// read-write at `/golem/work` (also the cwd), a private `/tmp`, every namespace unshared (no
/// network, own PIDs), an unprivileged uid, and resource limits.
///
/// Cancelling the calling Task, or the command's timeout, SIGKILLs bwrap; `--die-with-parent` then
/// kills the sandbox's PID namespace, and with it every process the command started. `run` returns
/// only after the process was reaped.
public struct Sandbox: Sendable {
    /// Where the job's directory is mounted inside.
    public static let workPath = "/golem/work"

    public var configuration: SandboxConfiguration

    public init(configuration: SandboxConfiguration = SandboxConfiguration()) {
        self.configuration = configuration
    }

    /// Runs `command` to its end. A non-zero exit is a result, not an error; throws `SandboxError`
    /// when it cannot start, `CancellationError` when the Task was cancelled (after the kill).
    public func run(_ command: SandboxCommand, logger: Logger) async throws -> SandboxResult {
        try Task.checkCancellation()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: command.workDirectory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw SandboxError("work directory \(command.workDirectory) does not exist")
        }
        let (executable, arguments) = launch(for: command)
        let process = try ChildProcess.spawn(executable: executable, arguments: arguments, environment: environment(for: command))
        logger.debug("sandbox started", metadata: ["sandbox.pid": "\(process.pid)", "sandbox.command": "\(command.executable)"])
        let termination = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<ChildProcess.Termination, Never>) in
                process.monitor(outputLimit: command.outputLimit, timeout: command.timeout) { termination in
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

    /// The host uid and gid the sandbox runs as: `hostUid`/`hostGid` when this process is root, else its own.
    public var effectiveHostIds: (uid: UInt32, gid: UInt32) {
        if geteuid() == 0, let uid = configuration.hostUid, let gid = configuration.hostGid { return (uid, gid) }
        return (geteuid(), getegid())
    }

    /// Creates `path` (and its parents) if needed and hands it to the sandbox's host uid, so the job can
    /// write to `/golem/work`. Call it on each directory and file the host puts into a work directory.
    public func prepareWorkDirectory(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try handOver(path)
    }

    /// Gives a file or directory the host puts into a work directory to the sandbox's host uid.
    public func handOver(_ path: String) throws {
        let (uid, gid) = effectiveHostIds
        guard uid != geteuid() || gid != getegid() else { return }
        guard lchown(path, uid, gid) == 0 else {
            throw SandboxError("cannot hand \(path) to uid \(uid): \(String(cString: strerror(errno)))")
        }
    }

    /// The program to spawn and its arguments: bwrap, behind `setpriv` when dropping root.
    func launch(for command: SandboxCommand) -> (String, [String]) {
        let bwrap = bwrapArguments(for: command)
        let (uid, gid) = effectiveHostIds
        if uid != geteuid() || gid != getegid() {
            return (configuration.setprivPath, ["--reuid=\(uid)", "--regid=\(gid)", "--clear-groups", "--", configuration.bwrapPath] + bwrap)
        }
        return (configuration.bwrapPath, bwrap)
    }

    /// The bwrap command line (after `bwrap`) for `command`.
    public func bwrapArguments(for command: SandboxCommand) -> [String] {
        var arguments = [
            "--unshare-all", "--unshare-user",
            "--uid", "\(configuration.uid)", "--gid", "\(configuration.gid)",
            "--die-with-parent", "--new-session",
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
            "--bind", command.workDirectory, Self.workPath,
            "--remount-ro", "/",
            "--chdir", Self.workPath,
            "--",
            configuration.prlimitPath,
        ]
        arguments += command.limits.prlimitArguments
        arguments += ["--", command.executable]
        arguments += command.arguments
        return arguments
    }

    private func environment(for command: SandboxCommand) -> [String: String] {
        var environment = [
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": Self.workPath,
            "TMPDIR": "/tmp",
            "LANG": "C.UTF-8",
        ]
        for (key, value) in command.environment where !key.isEmpty && !key.contains("=") && !key.contains("\0") && !value.contains("\0") {
            environment[key] = value
        }
        return environment
    }
}
