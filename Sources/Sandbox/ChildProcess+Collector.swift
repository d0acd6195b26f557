import CSandboxSpawn
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

extension ChildProcess {
    /// Collects output and the exit status on the ``OutputLoop``, then calls `completion` there
    /// (it must not block). Kills the process once `timeout` passed.
    /// `onOutput` is told stdout and stderr as they are read.
    func monitor(outputLimit: Int, timeout: Duration?, onOutput: SandboxOutputHandler? = nil, completion: @escaping @Sendable (Termination) -> Void) {
        let collector = Collector(process: self, outputLimit: outputLimit, timeout: timeout, onOutput: onOutput, completion: completion)
        setOnKill { [weak collector] in
            if let collector { OutputLoop.shared.wake(collector) }
        }
        collector.start()
    }

    /// The output and exit of one process, driven by the loop's events. It ends when the process was
    /// reaped and its output closed (every process holding it is gone); once killed, a straggler
    /// holding the output is waited for 2 s at most, and bubblewrap's report of its child as long.
    final class Collector: OutputLoopClient {
        private static let exitSlot = 3
        /// How long after a kill the end may take before we stop waiting for the output or
        /// bubblewrap's report.
        private static let grace = Duration.seconds(2)
        /// Without a pidfd (a kernel before 5.3), how often the exit is looked for.
        private static let reapInterval = Duration.milliseconds(5)

        private struct State {
            /// stdout, stderr and, for bubblewrap, its `--info-fd` report.
            var captures: [OutputCapture]
            /// Readable once the process exited; -1 when it is closed or pidfd_open failed.
            var exitDescriptor: Int32
            var deadline: ContinuousClock.Instant?
            var timedOut = false
            var status: Int32?
            var infoSettled: Bool
            var completion: (@Sendable (Termination) -> Void)?
        }

        private let process: ChildProcess
        private let loop = OutputLoop.shared
        private let state: Mutex<State>

        init(process: ChildProcess, outputLimit: Int, timeout: Duration?, onOutput: SandboxOutputHandler?, completion: @escaping @Sendable (Termination) -> Void) {
            self.process = process
            var captures = OutputCapture.pair(stdout: process.stdoutFD, stderr: process.stderrFD, limit: outputLimit, onOutput: onOutput)
            if process.infoFD >= 0 { captures.append(OutputCapture(descriptor: process.infoFD, limit: 4096)) }
            state = Mutex(State(
                captures: captures, exitDescriptor: gb_pidfd_open(process.pid), deadline: timeout.map { ContinuousClock.now + $0 },
                infoSettled: process.infoFD < 0, completion: completion
            ))
        }

        /// Registers the descriptors; the loop's calls wait for this to finish (they take the lock).
        func start() {
            state.withLock { state in
                for slot in state.captures.indices { state.captures[slot].watch(on: loop, for: self, slot: slot) }
                if state.exitDescriptor >= 0, !loop.watch(state.exitDescriptor, for: self, slot: Self.exitSlot) {
                    Glibc.close(state.exitDescriptor)
                    state.exitDescriptor = -1
                }
                loop.setDeadline(nextCheck(state), for: self)
            }
        }

        func ready(_ slot: Int, buffer: inout [UInt8]) {
            state.withLockThenEnd { (state: inout State) -> LoopEnd<Termination>? in
                guard state.completion != nil else { return nil }
                if slot == Self.exitSlot {
                    if state.status == nil { state.status = process.reapIfExited() }
                    if state.status != nil { closeExitDescriptor(&state) }
                } else if state.captures.indices.contains(slot) {
                    state.captures[slot].drain(&buffer, on: loop)
                }
                return advance(&state)
            }
        }

        func check() {
            state.withLockThenEnd { (state: inout State) -> LoopEnd<Termination>? in state.completion == nil ? nil : advance(&state) }
        }

        /// Acts on what is known now: a passed deadline kills, bubblewrap's report settles, an exit
        /// with the output closed (or a straggler after the grace) ends. Returns the end, once.
        private func advance(_ state: inout State) -> LoopEnd<Termination>? {
            let now = ContinuousClock.now
            if let deadline = state.deadline, !state.timedOut, now >= deadline {
                state.timedOut = true
                process.kill()
            }
            let graceOver = process.killRequested.map { now >= $0 + Self.grace } ?? false
            if !state.infoSettled {
                let childPid = ChildProcess.childPid(inInfo: state.captures[2].bytes)
                if childPid != nil || state.captures[2].ended || graceOver {
                    state.infoSettled = true
                    process.settleInfo(childPid: childPid)
                }
            }
            if state.status == nil, state.exitDescriptor < 0 || process.killRequested != nil {
                state.status = process.reapIfExited()
                if state.status != nil { closeExitDescriptor(&state) }
            }
            if state.status != nil, graceOver || state.captures.allSatisfy(\.ended) {
                return finish(&state)
            }
            loop.setDeadline(nextCheck(state), for: self)
            return nil
        }

        /// When to look again without an event: the timeout, the end of the grace after a kill, or
        /// the next look for the exit without a pidfd.
        private func nextCheck(_ state: State) -> ContinuousClock.Instant? {
            var next: ContinuousClock.Instant?
            func consider(_ instant: ContinuousClock.Instant) { next = next.map { min($0, instant) } ?? instant }
            if let deadline = state.deadline, !state.timedOut { consider(deadline) }
            if let killed = process.killRequested { consider(killed + Self.grace) }
            if state.status == nil, state.exitDescriptor < 0 { consider(.now + Self.reapInterval) }
            return next
        }

        private func closeExitDescriptor(_ state: inout State) {
            guard state.exitDescriptor >= 0 else { return }
            loop.unwatch(state.exitDescriptor)
            Glibc.close(state.exitDescriptor)
            state.exitDescriptor = -1
        }

        private func finish(_ state: inout State) -> LoopEnd<Termination>? {
            guard let completion = state.completion else { return nil }
            state.completion = nil
            for slot in state.captures.indices { state.captures[slot].close(on: loop) }
            closeExitDescriptor(&state)
            loop.setDeadline(nil, for: self)
            process.setOnKill(nil)
            process.closeSandboxInit()
            let termination = Termination(
                exitCode: ChildProcess.exitCode(waitStatus: state.status ?? 0), stdout: state.captures[0].bytes, stderr: state.captures[1].bytes,
                stdoutTruncated: state.captures[0].truncated, stderrTruncated: state.captures[1].truncated, timedOut: state.timedOut
            )
            return LoopEnd(completion: completion, outcome: termination)
        }
    }
}
