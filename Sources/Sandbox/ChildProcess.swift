import CSandboxSpawn
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Resilience
import Synchronization

/// A spawned process whose stdout and stderr are captured (bounded) and whose exit is awaited on a
/// dedicated thread, never on the cooperative pool.
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
    }

    let pid: pid_t
    private let stdoutFD: Int32
    private let stderrFD: Int32
    /// The read end of bubblewrap's `--info-fd`, or -1.
    private let infoFD: Int32
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
        state.withLock { state in
            if state.killRequested == nil { state.killRequested = .now }
            if state.sandboxInit >= 0 { _ = gb_pidfd_kill(state.sandboxInit) }
            if state.infoSettled { killProcess(&state) }
        }
    }

    private func killProcess(_ state: inout State) {
        guard !state.reaped else { return }
        _ = Glibc.kill(-pid, SIGKILL)
        _ = Glibc.kill(pid, SIGKILL)
    }

    /// Records what bubblewrap reported (`nil`: nothing, or it gave up waiting) and carries out a
    /// kill that was waiting for it.
    private func settleInfo(childPid: pid_t?) {
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
    private var killRequested: ContinuousClock.Instant? { state.withLock { $0.killRequested } }

    /// The `"child-pid": N` of bubblewrap's `--info-fd` JSON, once it is complete.
    static func childPid(inInfo bytes: [UInt8]) -> pid_t? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let key = text.range(of: "\"child-pid\"") else { return nil }
        let rest = text[key.upperBound...].drop { $0 == ":" || $0 == " " }
        let digits = rest.prefix { $0.isNumber }
        guard !digits.isEmpty, digits.endIndex < rest.endIndex else { return nil }
        return pid_t(digits)
    }

    /// Collects output and the exit status on a new thread, then calls `completion` there.
    func monitor(outputLimit: Int, timeout: Duration?, completion: @escaping @Sendable (Termination) -> Void) {
        let deadline = timeout.map { ContinuousClock.now + $0 }
        let thread = Thread { [self] in
            completion(collect(outputLimit: outputLimit, deadline: deadline))
        }
        thread.name = "sandbox-\(pid)"
        thread.start()
    }

    /// Reaps the process if it exited; returns its raw wait status.
    private func reapIfExited() -> Int32? {
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

    private func collect(outputLimit: Int, deadline: ContinuousClock.Instant?) -> Termination {
        var captures = [Capture(fd: stdoutFD, limit: outputLimit), Capture(fd: stderrFD, limit: outputLimit)]
        if infoFD >= 0 { captures.append(Capture(fd: infoFD, limit: 4096)) }
        for capture in captures { _ = fcntl(capture.fd, F_SETFL, fcntl(capture.fd, F_GETFL) | O_NONBLOCK) }
        var timedOut = false
        var status: Int32?
        // Allocated on the first output: a silent command (most of 1,000 `sleep`s) costs none of it.
        var buffer: [UInt8] = []
        var infoSettled = infoFD < 0

        while true {
            if let deadline, !timedOut, ContinuousClock.now >= deadline {
                timedOut = true
                kill()
            }
            let killed = killRequested
            if !infoSettled {
                let childPid = Self.childPid(inInfo: captures[2].bytes)
                let given = childPid != nil || !captures[2].isOpen
                let waitedTooLong = killed.map { $0.duration(to: .now) > .seconds(2) } ?? false
                if given || waitedTooLong {
                    infoSettled = true
                    settleInfo(childPid: childPid)
                }
            }
            if killed != nil, status == nil { status = reapIfExited() }
            let open = captures.indices.filter { captures[$0].isOpen }
            if status != nil {
                // Done when the output is closed (every process that held it is gone); once killed,
                // a straggler holding it is waited for only briefly.
                let graceOver = killed.map { $0.duration(to: .now) > .seconds(2) } ?? false
                if open.isEmpty || graceOver { break }
            }
            if open.isEmpty {
                // Output closed: the process is exiting (or closed its output and runs on).
                status = reapIfExited()
                if status == nil { usleep(5_000) }
                continue
            }
            var pollFDs = open.map { pollfd(fd: captures[$0].fd, events: Int16(POLLIN), revents: 0) }
            var wait: Int32 = -1
            if let deadline, !timedOut {
                let remaining = ContinuousClock.now.duration(to: deadline)
                wait = Int32(clamping: max(0, remaining.milliseconds(rounded: .up)))
            }
            if killed != nil { wait = wait < 0 ? 20 : min(wait, 20) }
            let ready = poll(&pollFDs, nfds_t(pollFDs.count), wait)
            if ready < 0 && errno != EINTR { break }
            for (slot, index) in open.enumerated() where pollFDs[slot].revents != 0 {
                captures[index].drain(&buffer)
            }
        }
        if status == nil {
            kill()
            if !infoSettled { settleInfo(childPid: Self.childPid(inInfo: captures[2].bytes)) }
            while status == nil {
                status = reapIfExited()
                if status == nil { usleep(5_000) }
            }
        }
        for index in captures.indices {
            if captures[index].isOpen { captures[index].drain(&buffer) }
            captures[index].close()
        }
        state.withLock { state in
            if state.sandboxInit >= 0 { Glibc.close(state.sandboxInit); state.sandboxInit = -1 }
        }
        let exitCode = Self.exitCode(waitStatus: status ?? 0)
        return Termination(
            exitCode: exitCode, stdout: captures[0].bytes, stderr: captures[1].bytes,
            stdoutTruncated: captures[0].truncated, stderrTruncated: captures[1].truncated, timedOut: timedOut
        )
    }

    /// The exit code of a raw wait status: 128+n when signal n ended the process.
    static func exitCode(waitStatus raw: Int32) -> Int32 {
        let signal = raw & 0x7f
        return signal == 0 ? (raw >> 8) & 0xff : 128 + signal
    }

    /// One captured pipe: keeps the first `limit` bytes, reads and drops the rest.
    struct Capture {
        var fd: Int32
        var limit: Int
        var bytes: [UInt8] = []
        var truncated = false
        var isOpen = true

        /// Reads what is available now; closes on end of file.
        mutating func drain(_ buffer: inout [UInt8]) {
            if buffer.isEmpty { buffer = [UInt8](repeating: 0, count: 16 * 1024) }
            while isOpen {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    let room = max(0, limit - bytes.count)
                    if count > room { truncated = true }
                    bytes.append(contentsOf: buffer[0..<min(count, room)])
                } else if count == 0 {
                    close()
                } else if errno == EINTR {
                    continue
                } else {
                    if errno != EAGAIN && errno != EWOULDBLOCK { close() }
                    return
                }
            }
        }

        mutating func close() {
            if isOpen {
                _ = Glibc.close(fd)
                isOpen = false
            }
        }
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
