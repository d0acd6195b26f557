#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

extension WarmSandbox {
    /// One command in a warm sandbox, driven by the ``OutputLoop``: its stdout and stderr, and the
    /// warden's replies on the control socket ('S' started, 'X' ended, 'F' not started). It ends once
    /// the warden reported the end and the output closed (2 s at most after the report: every
    /// process is gone by then, so the output closes at once), or when the warden is gone (then after
    /// bubblewrap ended, 5 s at most). The command's timeout asks the warden to kill it.
    final class Run: OutputLoopClient {
        typealias Outcome = Result<ChildProcess.Termination, SandboxError>
        private static let controlSlot = 2
        private static let afterEnd = Duration.seconds(2)
        private static let bwrapBound = Duration.seconds(5)

        private struct State {
            var captures: [OutputCapture]
            var controlWatched = false
            var deadline: ContinuousClock.Instant?
            var timedOut = false
            var status: Int32?
            var endedAt: ContinuousClock.Instant?
            /// The warden is gone: the run ends with this error once bubblewrap ended, or at `until`.
            var failingAfterBwrap: (error: SandboxError, until: ContinuousClock.Instant)?
            var completion: (@Sendable (Outcome) -> Void)?
        }

        private let warm: WarmSandbox
        private let killRequested: CancelFlag
        private let loop = OutputLoop.shared
        private let state: Mutex<State>

        private init(warm: WarmSandbox, captures: [OutputCapture], timeout: Duration?, killRequested: CancelFlag, completion: @escaping @Sendable (Outcome) -> Void) {
            self.warm = warm
            self.killRequested = killRequested
            state = Mutex(State(captures: captures, deadline: timeout.map { ContinuousClock.now + $0 }, completion: completion))
        }

        /// Sends the run request with the output pipes and starts collecting; `completion` is called
        /// once, here or on the loop. Does not wait for anything.
        static func start(
            in warm: WarmSandbox, request: [UInt8], command: SandboxCommand, killRequested: CancelFlag,
            onOutput: SandboxOutputHandler? = nil, completion: @escaping @Sendable (Outcome) -> Void
        ) {
            var outPipe: [Int32] = [-1, -1]
            var errPipe: [Int32] = [-1, -1]
            guard LibC.pipe2(&outPipe, O_CLOEXEC) == 0, LibC.pipe2(&errPipe, O_CLOEXEC) == 0 else {
                let message = String(cString: strerror(errno))
                for fd in outPipe + errPipe where fd >= 0 { Glibc.close(fd) }
                return completion(.failure(SandboxError("pipe failed: \(message)")))
            }
            let sent = warm.sendWithDescriptors(request, [outPipe[1], errPipe[1]])
            let sendError = errno
            Glibc.close(outPipe[1])
            Glibc.close(errPipe[1])
            guard sent else {
                Glibc.close(outPipe[0])
                Glibc.close(errPipe[0])
                warm.markBroken("cannot reach the warden: \(String(cString: strerror(sendError)))")
                return completion(.failure(SandboxError("warm sandbox unusable: cannot reach its warden")))
            }
            // A cancel that came before the request went out found nothing to kill: kill now.
            if killRequested.isSet { warm.sendKill() }
            let captures = OutputCapture.pair(stdout: outPipe[0], stderr: errPipe[0], limit: command.outputLimit, onOutput: onOutput)
            let run = Run(warm: warm, captures: captures, timeout: command.timeout, killRequested: killRequested, completion: completion)
            run.watch()
        }

        private func watch() {
            state.withLockThenEnd { (state: inout State) -> LoopEnd<Outcome>? in
                for slot in state.captures.indices { state.captures[slot].watch(on: loop, for: self, slot: slot) }
                state.controlWatched = loop.watch(warm.control, for: self, slot: Self.controlSlot)
                if !state.controlWatched {
                    warm.markBroken("cannot watch the warden's socket")
                    return finish(&state, .failure(SandboxError("warm sandbox: cannot watch its warden: \(String(cString: strerror(errno)))")))
                }
                loop.setDeadline(nextCheck(state), for: self)
                return nil
            }
        }

        func ready(_ slot: Int, buffer: inout [UInt8]) {
            state.withLockThenEnd { (state: inout State) -> LoopEnd<Outcome>? in
                guard state.completion != nil else { return nil }
                if slot == Self.controlSlot {
                    if let outcome = readControl(&state) { return finish(&state, outcome) }
                } else if state.captures.indices.contains(slot) {
                    state.captures[slot].drain(&buffer, on: loop)
                }
                return advance(&state)
            }
        }

        func check() {
            state.withLockThenEnd { (state: inout State) -> LoopEnd<Outcome>? in state.completion == nil ? nil : advance(&state) }
        }

        /// Reads the warden's replies that are there; an outcome when the run cannot go on.
        private func readControl(_ state: inout State) -> Outcome? {
            while state.controlWatched {
                switch warm.receiveNow() {
                case .timedOut:
                    return nil // nothing more now ('S', started, needs nothing)
                case .message(let kind, let body) where kind == UInt8(ascii: "X"):
                    state.status = body.count >= 4 ? WarmSandbox.int32(body) : 0
                    state.endedAt = .now
                    unwatchControl(&state)
                case .message(let kind, let body) where kind == UInt8(ascii: "F"):
                    let code = body.count >= 4 ? WarmSandbox.int32(body) : EINVAL
                    warm.markBroken("the warden could not start a command")
                    return .failure(SandboxError("the warm sandbox could not start the command: \(String(cString: strerror(code)))"))
                case .message:
                    continue
                case .closed(let why):
                    warm.markBroken("the warden is gone (\(why))")
                    unwatchControl(&state)
                    // Its socket closes before the kernel has killed the sandbox's other processes;
                    // bubblewrap ends after them.
                    let error = SandboxError(killRequested.isSet ? "cancelled" : "the sandbox's warden ended while the command ran (\(why))")
                    state.failingAfterBwrap = (error, .now + Self.bwrapBound)
                    warm.whenEnded { [weak self] in
                        if let self { self.loop.wake(self) }
                    }
                }
            }
            return nil
        }

        private func unwatchControl(_ state: inout State) {
            guard state.controlWatched else { return }
            state.controlWatched = false
            loop.unwatch(warm.control)
        }

        private func advance(_ state: inout State) -> LoopEnd<Outcome>? {
            let now = ContinuousClock.now
            if let (error, until) = state.failingAfterBwrap {
                if warm.hasEnded || now >= until { return finish(&state, .failure(error)) }
            } else if let endedAt = state.endedAt {
                if state.captures.allSatisfy(\.ended) || now >= endedAt + Self.afterEnd {
                    return finish(&state, .success(ChildProcess.Termination(
                        exitCode: ChildProcess.exitCode(waitStatus: state.status ?? 0), stdout: state.captures[0].bytes,
                        stderr: state.captures[1].bytes, stdoutTruncated: state.captures[0].truncated,
                        stderrTruncated: state.captures[1].truncated, timedOut: state.timedOut
                    )))
                }
            } else if let deadline = state.deadline, !state.timedOut, now >= deadline {
                state.timedOut = true
                warm.sendKill()
            }
            loop.setDeadline(nextCheck(state), for: self)
            return nil
        }

        private func nextCheck(_ state: State) -> ContinuousClock.Instant? {
            if let (_, until) = state.failingAfterBwrap { return until }
            if let endedAt = state.endedAt { return endedAt + Self.afterEnd }
            if let deadline = state.deadline, !state.timedOut { return deadline }
            return nil
        }

        private func finish(_ state: inout State, _ outcome: Outcome) -> LoopEnd<Outcome>? {
            guard let completion = state.completion else { return nil }
            state.completion = nil
            for slot in state.captures.indices { state.captures[slot].close(on: loop) }
            unwatchControl(&state)
            loop.setDeadline(nil, for: self)
            return LoopEnd(completion: completion, outcome: outcome)
        }
    }
}
