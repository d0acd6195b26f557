import BlockingWork
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import Synchronization

/// Warm sandboxes kept ready for jobs, the way the Golem backend keeps rentals: started ahead of
/// need and reset after each job, both in the background, so a job's path only takes one.
///
/// At most `size` sandboxes exist when demand allows (ready, in use, resetting or starting); more
/// are started when a job finds none ready, and closed when they come back. A sandbox whose reset
/// fails, times out or finds something it cannot undo is closed and replaced, never reused.
public final class WarmSandboxPool: Sendable {
    private let sandbox: Sandbox
    private let wardenPath: String
    private let workRoot: String
    private let size: Int
    private let resetTimeout: Duration
    private let logger: Logger
    private let state = Mutex(State())

    private struct State {
        var ready: [WarmSandbox] = []
        /// Sandboxes counted against `size` that are not ready: starting, in use or resetting.
        var busy = 0
        /// Of `busy`, those being reset.
        var resetting = 0
        /// Jobs waiting for a sandbox being reset (one each); resumed with it, or with `nil` to
        /// start one of their own.
        var waiters: [CheckedContinuation<WarmSandbox?, Never>] = []
        /// Starts that failed in a row; background refills stop after a few.
        var failures = 0
        var shutDown = false
    }

    /// A pool whose sandboxes run as `sandbox` configures them, under `workRoot`, or `nil` when the
    /// warden binary cannot be found (commands then get a fresh sandbox each).
    public init?(sandbox: Sandbox, workRoot: String, size: Int, resetTimeout: Duration = .seconds(5), logger: Logger) {
        guard size > 0, let wardenPath = sandbox.wardenPath else { return nil }
        self.sandbox = sandbox
        self.wardenPath = wardenPath
        self.workRoot = workRoot
        self.size = size
        self.resetTimeout = resetTimeout
        self.logger = logger
    }

    /// Starts sandboxes in the background until `size` exist. Returns at once.
    public func fill() {
        let missing = state.withLock { state -> Int in
            guard !state.shutDown, state.failures < 3 else { return 0 }
            let missing = max(0, size - state.ready.count - state.busy)
            state.busy += missing
            return missing
        }
        for _ in 0..<missing {
            Task {
                guard let warm = try? await startOne() else {
                    state.withLock { $0.busy -= 1 }
                    return
                }
                offer(warm, fromReset: false)
            }
        }
    }

    /// A ready sandbox; else the next one whose reset ends (a reset takes well under a millisecond
    /// of work: a job that follows another at once must not pay a start for it); else one started
    /// now. Give it back with ``checkin(_:)``.
    public func checkout() async throws -> WarmSandbox {
        let taken = await withCheckedContinuation { (continuation: CheckedContinuation<WarmSandbox?, Never>) in
            state.withLock { state in
                if let warm = state.ready.popLast() {
                    state.busy += 1
                    continuation.resume(returning: warm)
                } else if !state.shutDown, state.resetting > state.waiters.count {
                    state.waiters.append(continuation)
                } else {
                    state.busy += 1
                    continuation.resume(returning: nil)
                }
            }
        }
        if let taken { return taken }
        do {
            return try await startOne()
        } catch {
            state.withLock { $0.busy -= 1 }
            throw error
        }
    }

    /// Takes a sandbox back after its job: resets it in the background and makes it ready again, or
    /// closes and replaces it when the reset fails. Returns at once.
    public func checkin(_ warm: WarmSandbox) {
        state.withLock { $0.resetting += 1 }
        Task {
            let timeout = resetTimeout
            let failure = await BlockingIO.run { warm.reset(timeout: timeout) }
            if let failure {
                logger.notice("warm sandbox replaced", metadata: ["reason": "\(failure)"])
                state.withLock { state in
                    state.resetting -= 1
                    state.busy -= 1
                    // A job waiting for this one starts its own instead.
                    if state.waiters.count > state.resetting {
                        state.busy += 1
                        state.waiters.removeFirst().resume(returning: nil)
                    }
                }
                await retire(warm)
                fill()
            } else {
                offer(warm, fromReset: true)
            }
        }
    }

    /// Closes every ready sandbox and stops refilling; sandboxes in use are closed when they come back.
    public func shutdown() async {
        let ready = state.withLock { state -> [WarmSandbox] in
            state.shutDown = true
            for waiter in state.waiters {
                state.busy += 1
                waiter.resume(returning: nil)
            }
            state.waiters = []
            defer { state.ready = [] }
            return state.ready
        }
        for warm in ready { await retire(warm) }
    }

    /// Work directories of warm sandboxes are named `warm-<pid of the bridge>-<random>`.
    static let directoryPrefix = "warm-"

    /// Removes the work directories that warm sandboxes of bridges no longer running left in
    /// `workRoot` (the sandboxes ended with their bridge). Blocks.
    public static func removeLeftovers(in workRoot: String) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: workRoot)) ?? [] where name.hasPrefix(directoryPrefix) {
            let owner = name.dropFirst(directoryPrefix.count).prefix { $0.isNumber }
            guard let pid = pid_t(owner), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            try? FileManager.default.removeItem(atPath: "\(workRoot)/\(name)")
        }
    }

    /// How many sandboxes are ready now.
    public var readyCount: Int { state.withLock { $0.ready.count } }

    /// Hands a sandbox that is started or reset to a waiting job, or makes it ready, or closes it
    /// when `size` are there already.
    private func offer(_ warm: WarmSandbox, fromReset: Bool) {
        let keep = state.withLock { state -> Bool in
            if fromReset { state.resetting -= 1 }
            if !state.shutDown, !state.waiters.isEmpty {
                state.waiters.removeFirst().resume(returning: warm) // still busy: now in use
                return true
            }
            state.busy -= 1
            guard !state.shutDown, state.ready.count + state.busy < size else { return false }
            state.ready.append(warm)
            return true
        }
        if !keep { Task { await retire(warm) } }
    }

    private func startOne() async throws -> WarmSandbox {
        let directory = "\(workRoot)/\(Self.directoryPrefix)\(getpid())-\(UUID().uuidString.prefix(8))"
        try await sandbox.prepareWorkDirectory(directory)
        let (sandbox, wardenPath) = (sandbox, wardenPath)
        do {
            let warm = try await BlockingIO.run { try WarmSandbox.start(sandbox: sandbox, wardenPath: wardenPath, workDirectory: directory) }
            state.withLock { $0.failures = 0 }
            return warm
        } catch {
            state.withLock { $0.failures += 1 }
            logger.warning("cannot start a warm sandbox", metadata: ["error": "\(error)"])
            await sandbox.releaseWorkDirectory(directory)
            throw error
        }
    }

    private func retire(_ warm: WarmSandbox) async {
        await BlockingIO.run { warm.end() }
        await sandbox.releaseWorkDirectory(warm.workDirectory)
    }
}

extension Sandbox {
    /// The warden binary: ``SandboxConfiguration/wardenPath``, else `golem-sandbox-warden` beside
    /// the running executable; `nil` when that is not an executable file.
    var wardenPath: String? {
        var path = configuration.wardenPath
        if path == nil, let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            path = (executable as NSString).deletingLastPathComponent + "/golem-sandbox-warden"
        }
        guard let path, access(path, X_OK) == 0 else { return nil }
        return path
    }
}
