#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import Synchronization

/// A sandbox kept alive across jobs: bubblewrap (namespaces, mounts, the same view as ``Sandbox``)
/// whose PID 1 is `golem-sandbox-warden`, which runs one command at a time on request.
///
/// A command's first process ending ends the command: the warden then kills every other process in
/// the sandbox and reaps them before it reports the exit, as a fresh sandbox's end would.
/// ``reset(timeout:)`` brings it back to the state of a fresh one between jobs (see the warden's
/// comment for what it clears and checks) or says why it cannot; such a sandbox is closed, never
/// reused. Starting, resetting and ending block: run them on ``BlockingIO``. ``run(_:logger:)``
/// does not: its output and the warden's reply are read on the ``OutputLoop``.
public final class WarmSandbox: Sendable {
    /// The host directory bound at `/golem/work`; it stays the same for the sandbox's life and is
    /// emptied by every reset.
    public let workDirectory: String
    private let sandbox: Sandbox
    private let bwrap: ChildProcess
    /// Our end of the warden's SOCK_SEQPACKET socket.
    let control: Int32
    private let ended = DispatchSemaphore(value: 0)
    private let state = Mutex(State())

    private struct State {
        /// Why this sandbox must not be used again, once it must not.
        var broken: String?
        var closed = false
        /// A command was killed from outside (its timeout, a cancel): the job may have been stuck
        /// in ways a reset does not see, so the sandbox is replaced rather than reset.
        var killedFromOutside = false
        /// The bwrap's stderr, kept for an error message.
        var bwrapStderr: [UInt8] = []
        /// Bubblewrap ended, and with it every process of the sandbox.
        var bwrapEnded = false
        /// Called once it has.
        var endWatchers: [@Sendable () -> Void] = []
    }

    /// The largest run request the warden takes (its receive buffer); a larger command runs in a
    /// fresh sandbox instead.
    static let requestLimit = 256 * 1024

    private init(sandbox: Sandbox, workDirectory: String, bwrap: ChildProcess, control: Int32) {
        self.sandbox = sandbox
        self.workDirectory = workDirectory
        self.bwrap = bwrap
        self.control = control
    }

    /// Starts a sandbox over `workDirectory` (which must exist and belong to its host uid, see
    /// ``Sandbox/prepareWorkDirectory(_:)``) and waits until the warden is ready. Blocks.
    static func start(sandbox: Sandbox, wardenPath: String, workDirectory: String, timeout: Duration = .seconds(10)) throws -> WarmSandbox {
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw SandboxError("socketpair failed: \(String(cString: strerror(errno)))")
        }
        let warden = open(wardenPath, O_RDONLY | O_CLOEXEC)
        guard warden >= 0 else {
            let message = String(cString: strerror(errno))
            Glibc.close(pair[0])
            Glibc.close(pair[1])
            throw SandboxError("cannot open the sandbox warden \(wardenPath): \(message)")
        }
        // Descriptors in the sandbox: 3 bwrap's info pipe, 4 the socket, 5 the warden's binary, run
        // through /proc (nothing of ours is mounted where a job would see it).
        let arguments = sandbox.mountArguments(workDirectory: workDirectory) + ["--as-pid-1", "--", "/proc/self/fd/5", "4"]
        let (uid, gid) = sandbox.hostIds(for: workDirectory)
        let process: ChildProcess
        do {
            process = try ChildProcess.spawn(
                executable: sandbox.configuration.bwrapPath, arguments: arguments, environment: [:], limits: [],
                dropTo: uid != geteuid() || gid != getegid() ? (uid, gid) : nil, infoDescriptor: true, passing: [pair[1], warden]
            )
        } catch {
            Glibc.close(pair[0])
            Glibc.close(pair[1])
            Glibc.close(warden)
            throw error
        }
        Glibc.close(pair[1])
        Glibc.close(warden)
        let warm = WarmSandbox(sandbox: sandbox, workDirectory: workDirectory, bwrap: process, control: pair[0])
        process.monitor(outputLimit: 4096, timeout: nil) { [warm] termination in
            let watchers = warm.state.withLock { state in
                state.bwrapStderr = termination.stderr
                if state.broken == nil { state.broken = "the sandbox ended (bubblewrap exit \(termination.exitCode))" }
                state.bwrapEnded = true
                defer { state.endWatchers = [] }
                return state.endWatchers
            }
            for watcher in watchers { watcher() }
            warm.ended.signal()
        }
        switch warm.receive(until: .now + timeout) {
        case .message(let kind, _) where kind == UInt8(ascii: "H"):
            return warm
        case let other:
            warm.end()
            let stderr = String(decoding: warm.state.withLock { $0.bwrapStderr }, as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            throw SandboxError("the warm sandbox did not start (\(other))\(stderr.isEmpty ? "" : ": \(stderr)")")
        }
    }

    /// Why this sandbox must not be used again, or `nil`.
    public var brokenReason: String? { state.withLock { $0.broken } }

    func markBroken(_ reason: String) {
        state.withLock { if $0.broken == nil { $0.broken = reason } }
    }

    // MARK: - Running a command

    /// Runs `command` to its end (its `workDirectory` is ignored: this sandbox's own is used), with
    /// the same results as ``Sandbox/run(_:logger:)``. Throws `SandboxError` when the sandbox broke
    /// (then it is marked broken), `CancellationError` when the Task was cancelled (after the kill).
    /// A command larger than the warden takes runs in a fresh sandbox over the same directory.
    /// `onOutput` is told the output as it is read (see ``SandboxOutputHandler``).
    public func run(_ command: SandboxCommand, logger: Logger, onOutput: SandboxOutputHandler? = nil) async throws -> SandboxResult {
        try Task.checkCancellation()
        if let broken = brokenReason { throw SandboxError("warm sandbox unusable: \(broken)") }
        var command = command
        command.workDirectory = workDirectory
        guard let request = Self.runRequest(command, environment: Sandbox.environment(for: command)) else {
            return try await sandbox.run(command, logger: logger, onOutput: onOutput)
        }
        let killRequested = CancelFlag()
        let outcome = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<ChildProcess.Termination, SandboxError>, Never>) in
                // Pipes, one non-blocking send and epoll registrations: nothing here waits.
                Run.start(in: self, request: request, command: command, killRequested: killRequested, onOutput: onOutput) { continuation.resume(returning: $0) }
            }
        } onCancel: {
            killRequested.set()
            sendKill()
        }
        try Task.checkCancellation()
        let termination = try outcome.get()
        logger.debug("warm sandbox command ended", metadata: ["sandbox.exit": "\(termination.exitCode)"])
        return SandboxResult(
            exitCode: termination.exitCode, stdout: termination.stdout, stderr: termination.stderr,
            stdoutTruncated: termination.stdoutTruncated, stderrTruncated: termination.stderrTruncated,
            timedOut: termination.timedOut
        )
    }

    /// The warden's run request: limits, argv, environment (see the warden's comment), or `nil`
    /// when it exceeds ``requestLimit``.
    static func runRequest(_ command: SandboxCommand, environment: [String: String]) -> [UInt8]? {
        var bytes: [UInt8] = [UInt8(ascii: "R")]
        func append<T: FixedWidthInteger>(_ value: T) {
            withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
        }
        let limits = command.limits.resourceLimits
        append(UInt32(limits.count))
        for limit in limits {
            append(limit.resource)
            append(limit.value)
        }
        let variables = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let argv = [command.executable] + command.arguments
        append(UInt32(argv.count))
        append(UInt32(variables.count))
        for string in argv + variables {
            if string.utf8.contains(0) { return nil }
            bytes.append(contentsOf: string.utf8)
            bytes.append(0)
            if bytes.count > requestLimit { return nil }
        }
        return bytes
    }

    /// Asks the warden to kill the running command (also from the output loop: it does not wait).
    func sendKill() {
        state.withLock { $0.killedFromOutside = true }
        var kind = UInt8(ascii: "K")
        _ = send(control, &kind, 1, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
    }

    static func int32(_ bytes: [UInt8]) -> Int32 {
        Int32(littleEndian: bytes.prefix(4).withUnsafeBytes { $0.loadUnaligned(as: Int32.self) })
    }

    /// Sends `bytes` with `descriptors` (SCM_RIGHTS) without waiting: false (errno set) when it cannot.
    func sendWithDescriptors(_ bytes: [UInt8], _ descriptors: [Int32]) -> Bool {
        let space = MemoryLayout<cmsghdr>.stride + MemoryLayout<Int32>.stride * descriptors.count + 8
        var ancillary = [UInt8](repeating: 0, count: space)
        var bytes = bytes
        return bytes.withUnsafeMutableBytes { payload in
            ancillary.withUnsafeMutableBytes { control -> Bool in
                let header = control.baseAddress!.assumingMemoryBound(to: cmsghdr.self)
                let length = MemoryLayout<cmsghdr>.stride + MemoryLayout<Int32>.stride * descriptors.count
                header.pointee.cmsg_len = length
                header.pointee.cmsg_level = SOL_SOCKET
                header.pointee.cmsg_type = Int32(SCM_RIGHTS)
                let data = (control.baseAddress! + MemoryLayout<cmsghdr>.stride).assumingMemoryBound(to: Int32.self)
                for (index, descriptor) in descriptors.enumerated() { data[index] = descriptor }
                var vector = iovec(iov_base: payload.baseAddress, iov_len: payload.count)
                return withUnsafeMutablePointer(to: &vector) { vectorPointer in
                    var message = msghdr()
                    message.msg_iov = vectorPointer
                    message.msg_iovlen = 1
                    message.msg_control = control.baseAddress
                    message.msg_controllen = (length + 7) & ~7
                    while true {
                        if sendmsg(self.control, &message, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) >= 0 { return true }
                        if errno != EINTR { return false }
                    }
                }
            }
        }
    }

    enum Received: CustomStringConvertible {
        case message(UInt8, [UInt8])
        case timedOut
        case closed(String)

        var description: String {
            switch self {
            case .message(let kind, _): "unexpected reply \(Character(UnicodeScalar(kind)))"
            case .timedOut: "timed out"
            case .closed(let why): "warden gone: \(why)"
            }
        }
    }

    /// The warden's next message, waiting until `deadline` at most.
    private func receive(until deadline: ContinuousClock.Instant) -> Received {
        while true {
            var descriptor = pollfd(fd: control, events: Int16(POLLIN), revents: 0)
            let wait = Int32(clamping: max(0, ContinuousClock.now.duration(to: deadline).milliseconds(rounded: .up)))
            let ready = poll(&descriptor, 1, wait)
            if ready < 0 {
                if errno == EINTR { continue }
                return .closed(String(cString: strerror(errno)))
            }
            if ready == 0 { return .timedOut }
            let received = receiveNow()
            if case .timedOut = received { continue } // woken for nothing
            return received
        }
    }

    /// The warden's next message if one is there (`.timedOut` when none is), without waiting.
    func receiveNow() -> Received {
        while true {
            var buffer = [UInt8](repeating: 0, count: 512)
            let count = buffer.withUnsafeMutableBytes { recv(control, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { return .timedOut }
                return .closed(String(cString: strerror(errno)))
            }
            if count == 0 { return .closed("end of file") }
            return .message(buffer[0], Array(buffer[1..<count]))
        }
    }

    // MARK: - Between jobs

    /// Brings the sandbox back to the state of a fresh one without blocking: `completion` gets `nil`
    /// when it did, else why it cannot (then it is marked broken). The warden's reply is read on the
    /// ``OutputLoop``, `timeout` at most; `completion` runs there or here and must not block.
    func reset(timeout: Duration, completion: @escaping @Sendable (String?) -> Void) {
        if let broken = brokenReason { return completion(broken) }
        if state.withLock({ $0.killedFromOutside }) {
            markBroken("its last command was killed (timeout or cancel)")
            return completion(brokenReason)
        }
        var kind = UInt8(ascii: "Z")
        guard send(control, &kind, 1, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) == 1 else {
            markBroken("cannot reach the warden")
            return completion(brokenReason)
        }
        Reset(warm: self, timeout: timeout, completion: completion).start()
    }

    /// Whether bubblewrap ended (every process of the sandbox with it).
    var hasEnded: Bool { state.withLock { $0.bwrapEnded } }

    /// Calls `body` once bubblewrap ended (every process of the sandbox with it), at once when it
    /// has. `body` must not block: it may run on the output loop.
    func whenEnded(_ body: @escaping @Sendable () -> Void) {
        let now = state.withLock { state -> Bool in
            if !state.bwrapEnded { state.endWatchers.append(body) }
            return state.bwrapEnded
        }
        if now { body() }
    }

    /// Ends the sandbox and every process in it, and waits for bubblewrap. Blocks; idempotent.
    func end() {
        let first = state.withLock { state -> Bool in
            defer { state.closed = true }
            return !state.closed
        }
        guard first else { return }
        markBroken("closed")
        // End of file ends the warden (and with it the PID namespace); the kill covers a warden
        // that does not read any more.
        shutdown(control, Int32(SHUT_RDWR))
        bwrap.kill()
        ended.wait()
        Glibc.close(control)
    }
}

/// Whether a run was cancelled, shared by the cancel handler and the run on the output loop.
final class CancelFlag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
