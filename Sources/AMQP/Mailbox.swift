import CRabbitMQ
import Foundation
import Synchronization

/// Commands from Swift tasks to one connection thread, plus that thread's lifecycle.
///
/// Producers append under a `Mutex` and write the eventfd only when the queue was empty, so a burst of
/// commands costs one wake-up. The connection thread polls the eventfd next to the socket, drains the
/// whole queue at once and executes the commands in order.
final class Mailbox<Command: Sendable>: Sendable {
    enum Phase: Sendable { case idle, running, finished }

    private struct State {
        var commands: [Command] = []
        var phase: Phase = .idle
        var finishWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())
    /// Readable when commands are waiting. Non-blocking, close-on-exec; closed in deinit.
    let eventFD: Int32

    init() {
        eventFD = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        precondition(eventFD >= 0, "eventfd failed: errno \(errno)")
    }

    deinit { close(eventFD) }

    /// Queues a command. Returns false (and queues nothing) once the thread has finished.
    func post(_ command: Command) -> Bool {
        let wake: Bool? = state.withLock { s in
            guard s.phase != .finished else { return nil }
            s.commands.append(command)
            return s.commands.count == 1
        }
        guard let wake else { return false }
        if wake {
            var one: UInt64 = 1
            _ = write(eventFD, &one, 8)
        }
        return true
    }

    /// Queues several commands in order with one wake-up. Returns false (and queues nothing) once
    /// the thread has finished.
    func post(contentsOf commands: [Command]) -> Bool {
        let wake: Bool? = state.withLock { s in
            guard s.phase != .finished else { return nil }
            let wasEmpty = s.commands.isEmpty
            s.commands.append(contentsOf: commands)
            return wasEmpty && !commands.isEmpty
        }
        guard let wake else { return false }
        if wake {
            var one: UInt64 = 1
            _ = write(eventFD, &one, 8)
        }
        return true
    }

    /// Everything queued so far, in order.
    func take() -> [Command] {
        state.withLock { s in
            guard !s.commands.isEmpty else { return [] }
            let taken = s.commands
            s.commands.removeAll(keepingCapacity: true)
            return taken
        }
    }

    /// Consumes a pending wake-up (after poll reported the eventfd readable).
    func clearWakeup() {
        var value: UInt64 = 0
        _ = read(eventFD, &value, 8)
    }

    /// idle -> running. False when already running or finished.
    func start() -> Bool {
        state.withLock { s in
            guard s.phase == .idle else { return false }
            s.phase = .running
            return true
        }
    }

    var phase: Phase { state.withLock { $0.phase } }

    /// -> finished: resumes everybody waiting in `waitFinished` and returns the commands nobody will run.
    func finish() -> [Command] {
        let (left, waiters) = state.withLock { s in
            s.phase = .finished
            let left = s.commands
            s.commands = []
            let waiters = s.finishWaiters
            s.finishWaiters = []
            return (left, waiters)
        }
        for waiter in waiters { waiter.resume() }
        return left
    }

    /// Waits until `finish()` ran. Returns at once when the thread never started (and marks it finished,
    /// returning the queued commands through `idleLeftovers`).
    func waitFinished(idleLeftovers: ([Command]) -> Void) async {
        var leftovers: [Command]? = nil
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow: Bool = state.withLock { s in
                switch s.phase {
                case .idle:
                    s.phase = .finished
                    leftovers = s.commands
                    s.commands = []
                    return true
                case .running:
                    s.finishWaiters.append(continuation)
                    return false
                case .finished:
                    return true
                }
            }
            if resumeNow { continuation.resume() }
        }
        if let leftovers { idleLeftovers(leftovers) }
    }
}

extension Mailbox {
    /// Runs `body` on a new dedicated OS thread and returns (or throws) what it returned, after
    /// `finish()`. Cancelling the calling task posts `cancelCommand`.
    func runThread(
        name: String, cancelCommand: Command, body: @escaping @Sendable () -> Result<Void, AMQPError>,
        leftovers: @escaping @Sendable ([Command]) -> Void
    ) async throws {
        guard start() else { throw AMQPError(.closed, "\(name) was already started or closed") }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let thread = Thread { [self] in
                    let result = body()
                    leftovers(finish())
                    continuation.resume(with: result.mapError { $0 as any Error })
                }
                thread.name = name
                thread.start()
            }
        } onCancel: {
            _ = post(cancelCommand)
        }
    }
}
