import CSandboxSpawn
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Resilience
import Synchronization

/// What ``OutputLoop`` drives: a running command's output capture. Its methods are called on the
/// loop's thread and must never block (non-blocking reads, `waitpid` with `WNOHANG`, signals).
/// A client may be called for a descriptor it no longer watches or that is not ready (a stale
/// event): a read that finds nothing is harmless.
protocol OutputLoopClient: AnyObject, Sendable {
    /// The descriptor watched as `slot` is readable, at end of file or in error.
    func ready(_ slot: Int, buffer: inout [UInt8])
    /// The client's deadline passed, or it was woken (``OutputLoop/wake(_:)``).
    func check()
}

/// One thread that waits, with epoll, on every running command's output pipes, process exits
/// (pidfds), warm sandboxes' control sockets and their deadlines, instead of a thread per command.
///
/// A thread per command cost a thread start (clone, stack) and its wake-ups per job, and 40 KiB or
/// so per command in flight. Our own loop rather than NIO's pipe channels: NIO has no way to wait
/// for a pidfd (a process's exit) and gives every descriptor a channel, a pipeline and buffers of
/// its own; here the captures share one read buffer. Started on first use; it runs for the
/// process's life.
final class OutputLoop: Sendable {
    static let shared = OutputLoop()

    private struct Watch {
        let client: any OutputLoopClient
        let slot: Int
    }

    private struct State {
        /// By descriptor: a descriptor is unwatched before it is closed, so one number is never
        /// watched twice.
        var watches: [Int32: Watch] = [:]
        var deadlines: [ObjectIdentifier: (client: any OutputLoopClient, at: ContinuousClock.Instant)] = [:]
        /// Clients to check at the next turn.
        var woken: [any OutputLoopClient] = []
        /// Whether the thread waits in epoll, and until when (`nil`: no deadline).
        var waiting = false
        var waitingUntil: ContinuousClock.Instant?
        /// The wake descriptor was signalled since the thread last woke.
        var signalled = false
    }

    /// The longest the thread waits without looking at the deadlines (idle, it wakes this often).
    private static let heartbeat = Duration.seconds(1)

    private let epoll: Int32
    private let wakeDescriptor: Int32
    private let state = Mutex(State())

    private init() {
        epoll = gb_epoll_create()
        wakeDescriptor = gb_eventfd()
        precondition(epoll >= 0 && wakeDescriptor >= 0, "epoll or eventfd unavailable: \(String(cString: strerror(errno)))")
        precondition(gb_epoll_add(epoll, wakeDescriptor, UInt64(UInt32(bitPattern: wakeDescriptor))) == 0)
        // Named in the thread itself: Foundation's `Thread.name` does not reach the kernel's name
        // here, which would stay that of the thread that started it.
        Thread { [self] in
            gb_name_thread("sandbox-output")
            run()
        }.start()
    }

    /// Watches `descriptor` (made non-blocking by the caller) for input for `client` as `slot`.
    /// Returns false (errno set) when epoll refuses it.
    @discardableResult
    func watch(_ descriptor: Int32, for client: any OutputLoopClient, slot: Int) -> Bool {
        state.withLock { $0.watches[descriptor] = Watch(client: client, slot: slot) }
        let rc = gb_epoll_add(epoll, descriptor, UInt64(UInt32(bitPattern: descriptor)))
        guard rc == 0 else {
            state.withLock { _ = $0.watches.removeValue(forKey: descriptor) }
            errno = rc
            return false
        }
        return true
    }

    /// Stops watching `descriptor`; call it before closing the descriptor.
    func unwatch(_ descriptor: Int32) {
        _ = gb_epoll_remove(epoll, descriptor)
        state.withLock { _ = $0.watches.removeValue(forKey: descriptor) }
    }

    /// Calls `client.check()` once `instant` has passed (`nil`: never); replaces its earlier deadline.
    func setDeadline(_ instant: ContinuousClock.Instant?, for client: any OutputLoopClient) {
        let signal = state.withLock { state -> Bool in
            guard let instant else {
                state.deadlines.removeValue(forKey: ObjectIdentifier(client))
                return false
            }
            state.deadlines[ObjectIdentifier(client)] = (client, instant)
            // The loop looks at least every `heartbeat`: a later deadline needs no wake-up (a
            // reset's 5 s bound would otherwise cost every job one).
            let sooner = state.waitingUntil.map { instant < $0 } ?? true
            return state.waiting && sooner && Self.takeSignal(&state)
        }
        if signal { gb_eventfd_signal(wakeDescriptor) }
    }

    /// Calls `client.check()` on the loop's thread soon. From any thread.
    func wake(_ client: any OutputLoopClient) {
        let signal = state.withLock { state -> Bool in
            state.woken.append(client)
            return state.waiting && Self.takeSignal(&state)
        }
        if signal { gb_eventfd_signal(wakeDescriptor) }
    }

    private static func takeSignal(_ state: inout State) -> Bool {
        defer { state.signalled = true }
        return !state.signalled
    }

    private func run() {
        var tokens = [UInt64](repeating: 0, count: 64)
        // Shared by every capture: a read lands here, then the capture keeps what fits its limit.
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let timeout = state.withLock { state -> Int32 in
                var earliest: ContinuousClock.Instant?
                for entry in state.deadlines.values where earliest.map({ entry.at < $0 }) ?? true { earliest = entry.at }
                let now = ContinuousClock.now
                if !state.woken.isEmpty || earliest.map({ $0 <= now }) == true { return 0 }
                let until = min(earliest ?? now + Self.heartbeat, now + Self.heartbeat)
                state.waiting = true
                state.waitingUntil = until
                return Int32(clamping: now.duration(to: until).milliseconds(rounded: .up))
            }
            let count = tokens.withUnsafeMutableBufferPointer { gb_epoll_wait(epoll, $0.baseAddress, Int32($0.count), timeout) }
            let due = state.withLock { state -> [any OutputLoopClient] in
                state.waiting = false
                state.waitingUntil = nil
                var due = state.woken
                if !due.isEmpty { state.woken = [] }
                guard !state.deadlines.isEmpty else { return due }
                let now = ContinuousClock.now
                for (key, entry) in state.deadlines where entry.at <= now {
                    due.append(entry.client)
                    state.deadlines.removeValue(forKey: key)
                }
                return due
            }
            if count < 0 {
                usleep(1000) // EBADF or EINVAL cannot happen with our own descriptors; never spin.
            }
            for index in 0..<max(0, Int(count)) {
                let descriptor = Int32(bitPattern: UInt32(truncatingIfNeeded: tokens[index]))
                if descriptor == wakeDescriptor {
                    state.withLock { $0.signalled = false }
                    gb_eventfd_drain(wakeDescriptor)
                    continue
                }
                guard let watch = state.withLock({ $0.watches[descriptor] }) else { continue }
                watch.client.ready(watch.slot, buffer: &buffer)
            }
            for client in due { client.check() }
        }
    }
}

/// Told each read of a running command's output that the capture keeps (`stream` 1 is stdout, 2
/// stderr), and `cut` once the output limit was reached; called on the output thread: it must return
/// at once.
public typealias SandboxOutputHandler = @Sendable (_ stream: Int32, _ bytes: ArraySlice<UInt8>, _ cut: Bool) -> Void

/// One captured pipe: keeps the first `limit` bytes, reads and drops the rest, byte for byte.
struct OutputCapture {
    let descriptor: Int32
    let limit: Int
    /// Told what is kept as it is read (``SandboxOutputHandler``), as `stream`.
    var onOutput: (stream: Int32, handler: SandboxOutputHandler)?
    var bytes: [UInt8] = []
    var truncated = false
    /// End of file (or a read error): nothing more will come.
    var ended = false
    private var closed = false

    init(descriptor: Int32, limit: Int) {
        self.descriptor = descriptor
        self.limit = limit
    }

    /// The captures of a command's stdout and stderr (slots 0 and 1), telling `onOutput` what they keep.
    static func pair(stdout: Int32, stderr: Int32, limit: Int, onOutput: SandboxOutputHandler?) -> [OutputCapture] {
        var captures = [OutputCapture(descriptor: stdout, limit: limit), OutputCapture(descriptor: stderr, limit: limit)]
        if let onOutput {
            captures[0].onOutput = (1, onOutput)
            captures[1].onOutput = (2, onOutput)
        }
        return captures
    }

    /// Makes the descriptor non-blocking and watches it on `loop` as `slot`; a refusal ends it.
    mutating func watch(on loop: OutputLoop, for client: any OutputLoopClient, slot: Int) {
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        if !loop.watch(descriptor, for: client, slot: slot) { ended = true }
    }

    /// Reads what is available now into `buffer`, keeping what fits; at the end, closes (see
    /// ``close(on:)``): an ended pipe stays readable and would wake the loop at every turn.
    mutating func drain(_ buffer: inout [UInt8], on loop: OutputLoop) {
        defer { if ended { close(on: loop) } }
        while !ended {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count > 0 {
                let room = max(0, limit - bytes.count)
                let cut = count > room && !truncated
                if count > room { truncated = true }
                if room > 0 { bytes.append(contentsOf: buffer[0..<min(count, room)]) }
                if let onOutput, room > 0 || cut { onOutput.handler(onOutput.stream, buffer[0..<min(count, room)], cut) }
            } else if count == 0 {
                ended = true
            } else if errno == EINTR {
                continue
            } else {
                if errno != EAGAIN && errno != EWOULDBLOCK { ended = true }
                return
            }
        }
    }

    /// Unwatches and closes the descriptor; idempotent.
    mutating func close(on loop: OutputLoop) {
        guard !closed else { return }
        closed = true
        ended = true
        loop.unwatch(descriptor)
        _ = Glibc.close(descriptor)
    }
}

/// What a client's step returns when it ended: the completion to call, outside its lock, and what
/// to call it with.
struct LoopEnd<Outcome: Sendable>: Sendable {
    let completion: @Sendable (Outcome) -> Void
    let outcome: Outcome
}

extension Mutex where Value: ~Copyable {
    /// Runs `body` under the lock, then, unlocked, the completion of the end it returned, if any.
    func withLockThenEnd<Outcome: Sendable>(_ body: (inout sending Value) -> sending LoopEnd<Outcome>?) {
        if let end = withLock(body) { end.completion(end.outcome) }
    }
}
