import CSandboxSpawn
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// A spawned process whose stdout and stderr are captured (bounded) and whose exit is awaited on a
/// dedicated thread, never on the cooperative pool.
///
/// It is killed with SIGKILL (process group and pid) on `kill()`; the pid is only signalled while it
/// is not yet reaped (reaping and killing share a lock), so a recycled pid is never hit.
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
        var killed = false
    }

    let pid: pid_t
    private let stdoutFD: Int32
    private let stderrFD: Int32
    private let state = Mutex(State())

    private init(pid: pid_t, stdoutFD: Int32, stderrFD: Int32) {
        self.pid = pid
        self.stdoutFD = stdoutFD
        self.stderrFD = stderrFD
    }

    /// Starts `executable` (an absolute path) in its own process group, stdin from /dev/null, with
    /// `limits` set and, when `dropTo` is given, as that uid and gid (see `gb_spawn`).
    static func spawn(
        executable: String, arguments: [String], environment: [String: String],
        limits: [(resource: Int32, value: UInt64)], dropTo: (uid: UInt32, gid: UInt32)?
    ) throws -> ChildProcess {
        var outPipe: [Int32] = [-1, -1]
        var errPipe: [Int32] = [-1, -1]
        guard LibC.pipe2(&outPipe, O_CLOEXEC) == 0 else { throw SandboxError("pipe failed: \(String(cString: strerror(errno)))") }
        guard LibC.pipe2(&errPipe, O_CLOEXEC) == 0 else {
            close(outPipe[0]); close(outPipe[1])
            throw SandboxError("pipe failed: \(String(cString: strerror(errno)))")
        }
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        let cLimits = limits.map { gb_limit(resource: $0.resource, value: $0.value) }
        var pid: Int32 = 0
        let rc = cLimits.withUnsafeBufferPointer { limitBuffer in
            gb_spawn(
                executable, argv, envp, dropTo == nil ? 0 : 1, dropTo?.uid ?? 0, dropTo?.gid ?? 0,
                limitBuffer.baseAddress, Int32(limitBuffer.count), outPipe[1], errPipe[1], &pid
            )
        }
        close(outPipe[1])
        close(errPipe[1])
        guard rc == 0 else {
            close(outPipe[0]); close(errPipe[0])
            throw SandboxError("cannot start \(executable): \(String(cString: strerror(rc)))")
        }
        return ChildProcess(pid: pid, stdoutFD: outPipe[0], stderrFD: errPipe[0])
    }

    /// SIGKILLs the process group and the process, unless it was already reaped. Idempotent.
    func kill() {
        state.withLock { state in
            guard !state.reaped else { return }
            state.killed = true
            _ = Glibc.kill(-pid, SIGKILL)
            _ = Glibc.kill(pid, SIGKILL)
        }
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
        for capture in captures { _ = fcntl(capture.fd, F_SETFL, fcntl(capture.fd, F_GETFL) | O_NONBLOCK) }
        var timedOut = false
        var status: Int32?
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)

        while status == nil {
            if let deadline, !timedOut, ContinuousClock.now >= deadline {
                timedOut = true
                kill()
            }
            let open = captures.indices.filter { captures[$0].isOpen }
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
                wait = Int32(max(0, min(Double(Int32.max), (Double(remaining.components.seconds) * 1000 + Double(remaining.components.attoseconds) / 1e15).rounded(.up))))
            }
            let ready = poll(&pollFDs, nfds_t(pollFDs.count), wait)
            if ready < 0 && errno != EINTR { break }
            for (slot, index) in open.enumerated() where pollFDs[slot].revents != 0 {
                captures[index].drain(&buffer)
            }
        }
        if status == nil {
            kill()
            while status == nil {
                status = reapIfExited()
                if status == nil { usleep(5_000) }
            }
        }
        for index in captures.indices {
            if captures[index].isOpen { captures[index].drain(&buffer) }
            captures[index].close()
        }
        let raw = status ?? 0
        let signal = raw & 0x7f
        let exitCode = signal == 0 ? (raw >> 8) & 0xff : 128 + signal
        return Termination(
            exitCode: exitCode, stdout: captures[0].bytes, stderr: captures[1].bytes,
            stdoutTruncated: captures[0].truncated, stderrTruncated: captures[1].truncated, timedOut: timedOut
        )
    }

    /// One captured pipe: keeps the first `limit` bytes, reads and drops the rest.
    private struct Capture {
        var fd: Int32
        var limit: Int
        var bytes: [UInt8] = []
        var truncated = false
        var isOpen = true

        /// Reads what is available now; closes on end of file.
        mutating func drain(_ buffer: inout [UInt8]) {
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
private enum LibC {
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
