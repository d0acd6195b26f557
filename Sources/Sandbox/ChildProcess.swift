import CSandboxSpawn
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Resilience
import Synchronization

/// A spawned process whose stdout and stderr are captured (bounded) and whose exit is awaited on the
/// ``OutputLoop``'s thread, never on the cooperative pool (see `ChildProcess+Collector.swift`).
///
/// It is killed with SIGKILL (process group and pid) on `kill()`; the pid is only signalled while it
/// is not yet reaped (reaping and killing share a lock), so a recycled pid is never hit. When the
/// process is bubblewrap started with `--info-fd 3`, the sandbox's own PID 1 is killed too, through a
/// pidfd: that ends the whole PID namespace at once. `--die-with-parent` alone is not enough: killing
/// bwrap left the sandboxed processes running in about 1 start in 4 here (bubblewrap 0.8.0).
final class ChildProcess: Sendable {
    struct Termination: Sendable {
        var exitCode: Int32
        var stdout: [UInt8]
        var stderr: [UInt8]
        var stdoutTruncated: Bool
        var stderrTruncated: Bool
        var timedOut: Bool
    }

    private struct State {
        var reaped = false
        var killRequested: ContinuousClock.Instant?
        /// Whether bubblewrap's report was read, or will never come.
        var infoSettled = false
        /// A pidfd for the sandbox's PID 1, once bubblewrap reported it.
        var sandboxInit: Int32 = -1
        /// Tells the collector of a kill (it then waits for the end within a bound); cleared when it ends.
        var onKill: (@Sendable () -> Void)?
    }

    let pid: pid_t
    let stdoutFD: Int32
    let stderrFD: Int32
    /// The read end of bubblewrap's `--info-fd`, or -1.
    let infoFD: Int32
    private let state = Mutex(State())

    private init(pid: pid_t, stdoutFD: Int32, stderrFD: Int32, infoFD: Int32) {
        self.pid = pid
        self.stdoutFD = stdoutFD
        self.stderrFD = stderrFD
        self.infoFD = infoFD
        if infoFD < 0 { state.withLock { $0.infoSettled = true } }
    }

    /// Starts `executable` (an absolute path) in its own process group, stdin from /dev/null, with
    /// `limits` set and, when `dropTo` is given, as that uid and gid (see `gb_spawn`). With
    /// `infoDescriptor`, the child gets a pipe as descriptor 3 for bubblewrap's `--info-fd 3`;
    /// `passing` are the child's next descriptors (4, 5, … after the info pipe, else 3, 4, …).
    static func spawn(
        executable: String, arguments: [String], environment: [String: String],
        limits: [(resource: Int32, value: UInt64)], dropTo: (uid: UInt32, gid: UInt32)?,
        infoDescriptor: Bool = false, passing: [Int32] = []
    ) throws -> ChildProcess {
        var outPipe: [Int32] = [-1, -1]
        var errPipe: [Int32] = [-1, -1]
        var infoPipe: [Int32] = [-1, -1]
        func closeAll() { for fd in outPipe + errPipe + infoPipe where fd >= 0 { close(fd) } }
        guard LibC.pipe2(&outPipe, O_CLOEXEC) == 0, LibC.pipe2(&errPipe, O_CLOEXEC) == 0,
              !infoDescriptor || LibC.pipe2(&infoPipe, O_CLOEXEC) == 0 else {
            let message = String(cString: strerror(errno))
            closeAll()
            throw SandboxError("pipe failed: \(message)")
        }
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        let cLimits = limits.map { gb_limit(resource: $0.resource, value: $0.value) }
        var pid: Int32 = 0
        let extras = (infoDescriptor ? [infoPipe[1]] : []) + passing
        let rc = cLimits.withUnsafeBufferPointer { limitBuffer in
            extras.withUnsafeBufferPointer { extraBuffer in
                gb_spawn(
                    executable, argv, envp, dropTo == nil ? 0 : 1, dropTo?.uid ?? 0, dropTo?.gid ?? 0,
                    limitBuffer.baseAddress, Int32(limitBuffer.count), outPipe[1], errPipe[1],
                    extraBuffer.baseAddress, Int32(extraBuffer.count), &pid
                )
            }
        }
        for writeEnd in [outPipe[1], errPipe[1], infoPipe[1]] where writeEnd >= 0 { close(writeEnd) }
        (outPipe[1], errPipe[1], infoPipe[1]) = (-1, -1, -1)
        guard rc == 0 else {
            closeAll()
            throw SandboxError("cannot start \(executable): \(String(cString: strerror(rc)))")
        }
        return ChildProcess(pid: pid, stdoutFD: outPipe[0], stderrFD: errPipe[0], infoFD: infoPipe[0])
    }

    /// Kills the process (SIGKILL to its group and itself, never after it was reaped) and, through a
    /// pidfd, the sandbox's PID 1. Idempotent.
    ///
    /// While bubblewrap has not yet reported its child, killing bwrap is deferred until it does (it
    /// reports right after the clone, before the child may run): killing bwrap first could orphan a
    /// child that has already left bwrap's process group and lost its parent-death signal.
    func kill() {
        let onKill = state.withLock { state in
            if state.killRequested == nil { state.killRequested = .now }
            if state.sandboxInit >= 0 { _ = gb_pidfd_kill(state.sandboxInit) }
            if state.infoSettled { killProcess(&state) }
            return state.onKill
        }
        onKill?()
    }

    private func killProcess(_ state: inout State) {
        guard !state.reaped else { return }
        _ = Glibc.kill(-pid, SIGKILL)
        _ = Glibc.kill(pid, SIGKILL)
    }

    /// Records what bubblewrap reported (`nil`: nothing, or it gave up waiting) and carries out a
    /// kill that was waiting for it.
    func settleInfo(childPid: pid_t?) {
        let pidfd = childPid.map { gb_pidfd_open($0) } ?? -1
        state.withLock { state in
            guard !state.infoSettled else {
                if pidfd >= 0 { Glibc.close(pidfd) }
                return
            }
            state.infoSettled = true
            state.sandboxInit = pidfd
            if state.killRequested != nil {
                if pidfd >= 0 { _ = gb_pidfd_kill(pidfd) }
                killProcess(&state)
            }
        }
    }

    /// When the kill was requested, if it was.
    var killRequested: ContinuousClock.Instant? { state.withLock { $0.killRequested } }

    /// The `"child-pid": N` of bubblewrap's `--info-fd` JSON, once it is complete.
    static func childPid(inInfo bytes: [UInt8]) -> pid_t? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let key = text.range(of: "\"child-pid\"") else { return nil }
        let rest = text[key.upperBound...].drop { $0 == ":" || $0 == " " }
        let digits = rest.prefix { $0.isNumber }
        guard !digits.isEmpty, digits.endIndex < rest.endIndex else { return nil }
        return pid_t(digits)
    }

    /// Reaps the process if it exited; returns its raw wait status.
    func reapIfExited() -> Int32? {
        state.withLock { state -> Int32? in
            guard !state.reaped else { return nil }
            var status: Int32 = 0
            let rc = waitpid(pid, &status, WNOHANG)
            if rc == pid || (rc < 0 && errno == ECHILD) {
                state.reaped = true
                return rc == pid ? status : 0
            }
            return nil
        }
    }

    /// Sets (or, with `nil`, clears) what ``kill()`` tells the collector.
    func setOnKill(_ body: (@Sendable () -> Void)?) {
        state.withLock { $0.onKill = body }
    }

    /// Closes the pidfd of the sandbox's PID 1, once the process was reaped.
    func closeSandboxInit() {
        state.withLock { state in
            if state.sandboxInit >= 0 { Glibc.close(state.sandboxInit); state.sandboxInit = -1 }
        }
    }

    /// The exit code of a raw wait status: 128+n when signal n ended the process.
    static func exitCode(waitStatus raw: Int32) -> Int32 {
        let signal = raw & 0x7f
        return signal == 0 ? (raw >> 8) & 0xff : 128 + signal
    }
}

/// glibc functions Swift's Glibc module does not import (they need `_GNU_SOURCE`), looked up once.
enum LibC {
    typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>?, Int32) -> Int32
    typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32

    private static let pipe2Function: Pipe2? = dlsym(dlopen(nil, RTLD_NOW), "pipe2").map { unsafeBitCast($0, to: Pipe2.self) }
    private static let addCloseFromFunction: AddCloseFrom? = dlsym(dlopen(nil, RTLD_NOW), "posix_spawn_file_actions_addclosefrom_np")
        .map { unsafeBitCast($0, to: AddCloseFrom.self) }

    /// `pipe2(2)`; without it, `pipe` then `FD_CLOEXEC` (a small window in which a concurrent spawn may inherit the fds).
    static func pipe2(_ fds: UnsafeMutablePointer<Int32>, _ flags: Int32) -> Int32 {
        if let pipe2Function { return pipe2Function(fds, flags) }
        guard Glibc.pipe(fds) == 0 else { return -1 }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        return 0
    }

    /// Closes every fd from `low` up in the child (glibc ≥ 2.34); a no-op where it is missing.
    static func addCloseFrom(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ low: Int32) -> Int32 {
        addCloseFromFunction?(actions, low) ?? 0
    }
}
