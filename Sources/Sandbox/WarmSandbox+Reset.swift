import Foundation
import Synchronization

extension WarmSandbox {
    /// Waits, on the ``OutputLoop``, for the warden's answer to a reset request: 'C' clean, 'B' and
    /// why not; anything else, or no answer within the timeout, means the sandbox is broken.
    final class Reset: OutputLoopClient {
        private struct State {
            var watched = false
            var completion: (@Sendable (String?) -> Void)?
        }

        private let warm: WarmSandbox
        private let timeout: Duration
        private let deadline: ContinuousClock.Instant
        private let loop = OutputLoop.shared
        private let state: Mutex<State>

        init(warm: WarmSandbox, timeout: Duration, completion: @escaping @Sendable (String?) -> Void) {
            self.warm = warm
            self.timeout = timeout
            self.deadline = .now + timeout
            state = Mutex(State(completion: completion))
        }

        func start() {
            state.withLockThenEnd { (state: inout State) -> LoopEnd<String?>? in
                state.watched = loop.watch(warm.control, for: self, slot: 0)
                guard state.watched else { return end(&state, "cannot watch the warden's socket") }
                loop.setDeadline(deadline, for: self)
                return nil
            }
        }

        func ready(_ slot: Int, buffer: inout [UInt8]) {
            state.withLockThenEnd { (state: inout State) -> LoopEnd<String?>? in
                guard state.completion != nil else { return nil }
                switch warm.receiveNow() {
                case .timedOut: return nil // not yet
                case .message(let kind, _) where kind == UInt8(ascii: "C"): return end(&state, nil)
                case .message(let kind, let body) where kind == UInt8(ascii: "B"): return end(&state, String(decoding: body, as: UTF8.self))
                case let other: return end(&state, "\(other)")
                }
            }
        }

        func check() {
            state.withLockThenEnd { (state: inout State) -> LoopEnd<String?>? in
                guard state.completion != nil, ContinuousClock.now >= deadline else { return nil }
                return end(&state, "the reset took longer than \(timeout)")
            }
        }

        private func end(_ state: inout State, _ reason: String?) -> LoopEnd<String?>? {
            guard let completion = state.completion else { return nil }
            state.completion = nil
            if state.watched { loop.unwatch(warm.control) }
            state.watched = false
            loop.setDeadline(nil, for: self)
            if let reason { warm.markBroken(reason) }
            return LoopEnd(completion: completion, outcome: reason)
        }
    }
}
