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
/// At most `size` sandboxes exist (ready, in use, resetting or starting); a job that finds them all
/// in use runs in fresh sandboxes. A sandbox whose reset fails, times out or finds something it
/// cannot undo is closed and replaced, never reused.
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
        /// Of `busy`, those being reset or started ahead: each will be offered to a waiting job.
        var coming = 0
        /// Jobs waiting for a sandbox being reset (one each); resumed with it, or told to start
        /// one or to run fresh when the reset failed.
        var waiters: [CheckedContinuation<Handout, Never>] = []
        /// Starts that failed in a row; background refills stop after a few.
        var failures = 0
        var shutDown = false
        /// Sandboxes being closed; ``shutdown()`` waits for them.
        var retiring = 0
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
            state.coming += missing
            return missing
        }
        for _ in 0..<missing {
            Task {
                guard let warm = try? await startOne() else {
                    state.withLock { state in
                        state.coming -= 1
                        state.busy -= 1
                        if state.waiters.count > state.coming {
                            state.waiters.removeFirst().resume(returning: Self.startOrFresh(&state, size: size))
                        }
                    }
                    return
                }
                offer(warm)
            }
        }
    }

    /// What a job asking for a sandbox gets.
    enum Handout {
        case sandbox(WarmSandbox)
        /// Start one: the pool has room.
        case start
        /// Every warm sandbox is in use: run in a fresh sandbox per step.
        case fresh
    }

    /// A ready sandbox; else the next one whose reset or start ends (a reset takes well under a
    /// millisecond of work: a job that follows another at once must not pay a start); else one started
    /// now while fewer than `size` exist; else `nil`: all are in use, so the job runs its steps in
    /// fresh sandboxes (a thousand jobs in flight do not make a thousand warm sandboxes).
    /// Give a sandbox back with ``checkin(_:)``.
    public func checkout() async throws -> WarmSandbox? {
        let handout = await withCheckedContinuation { (continuation: CheckedContinuation<Handout, Never>) in
            state.withLock { state in
                if let warm = state.ready.popLast() {
                    state.busy += 1
                    continuation.resume(returning: .sandbox(warm))
                } else if !state.shutDown, state.coming > state.waiters.count {
                    state.waiters.append(continuation)
                } else {
                    continuation.resume(returning: Self.startOrFresh(&state, size: size))
                }
            }
        }
        switch handout {
        case .sandbox(let warm): return warm
        case .fresh: return nil
        case .start: break
        }
        do {
            return try await startOne()
        } catch {
            state.withLock { $0.busy -= 1 }
            throw error
        }
    }

    private static func startOrFresh(_ state: inout State, size: Int) -> Handout {
        guard !state.shutDown, state.ready.count + state.busy < size else { return .fresh }
        state.busy += 1
        return .start
    }

    /// Takes a sandbox back after its job: resets it in the background and makes it ready again, or
    /// closes and replaces it when the reset fails. Returns at once.
    public func checkin(_ warm: WarmSandbox) {
        state.withLock { $0.coming += 1 }
        // The warden's reply is read on the output loop: a clean sandbox is offered from there, with
        // no task or thread of its own (the common case costs no hop).
        warm.reset(timeout: resetTimeout) { [self] failure in
            guard let failure else { return offer(warm) }
            state.withLock { state in
                state.coming -= 1
                state.busy -= 1
                // A job waiting for this one starts its own instead (or runs fresh).
                if state.waiters.count > state.coming {
                    state.waiters.removeFirst().resume(returning: Self.startOrFresh(&state, size: size))
                }
            }
            Task {
                logger.notice("warm sandbox replaced", metadata: ["reason": "\(failure)"])
                await retire(warm)
                fill()
            }
        }
    }

    /// Stops refilling, closes every ready sandbox and waits (10 s at most) for those being started
    /// or reset to be closed too; sandboxes in use are closed when they come back.
    public func shutdown() async {
        let ready = state.withLock { state -> [WarmSandbox] in
            state.shutDown = true
            for waiter in state.waiters { waiter.resume(returning: .fresh) }
            state.waiters = []
            defer { state.ready = [] }
            return state.ready
        }
        for warm in ready { await retire(warm) }
        let deadline = ContinuousClock.now + .seconds(10)
        while state.withLock({ $0.coming > 0 || $0.retiring > 0 }), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
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
    private func offer(_ warm: WarmSandbox) {
        let keep = state.withLock { state -> Bool in
            state.coming -= 1
            if !state.shutDown, !state.waiters.isEmpty {
                state.waiters.removeFirst().resume(returning: .sandbox(warm)) // still busy: now in use
                return true
            }
            state.busy -= 1
            guard !state.shutDown, state.ready.count + state.busy < size else { return false }
            state.ready.append(warm)
            return true
        }
        if !keep {
            state.withLock { $0.retiring += 1 }
            Task {
                await retire(warm)
                state.withLock { $0.retiring -= 1 }
            }
        }
    }

    private func startOne() async throws -> WarmSandbox {
        let directory = "\(workRoot)/\(Self.directoryPrefix)\(getpid())-\(UUID().uuidString.prefix(8))"
        // Never made again once gone (its owner removed it after the shutdown).
        guard FileManager.default.fileExists(atPath: workRoot) || !state.withLock({ $0.shutDown }) else {
            throw SandboxError("the warm sandbox pool is shut down")
        }
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
