import Foundation
import GolemBackend
import Synchronization

/// A ``GolemClock`` that moves only when a test calls `advance(by:)`: a time rule is shown without
/// waiting it out. Sleepers wake when the time passes their deadline, or throw when cancelled.
final class ManualClock: GolemClock {
    private struct State {
        var now: ContinuousClock.Instant
        var date: Date
        var sleepers: [UUID: (deadline: ContinuousClock.Instant, continuation: CheckedContinuation<Void, any Error>)] = [:]
    }

    private let state: Mutex<State>

    /// Starts at the machine's monotonic time and at `date` on the wall clock.
    init(date: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        state = Mutex(State(now: .now, date: date))
    }

    var now: ContinuousClock.Instant { state.withLock { $0.now } }
    var date: Date { state.withLock { $0.date } }

    /// Moves both clocks forward by `duration` and wakes the sleepers it passes.
    func advance(by duration: Duration) {
        let woken = state.withLock { state in
            state.now += duration
            state.date += TimeInterval(duration.components.seconds) + TimeInterval(duration.components.attoseconds) / 1e18
            let due = state.sleepers.filter { $0.value.deadline <= state.now }
            for id in due.keys { state.sleepers.removeValue(forKey: id) }
            return due.values.map(\.continuation)
        }
        for continuation in woken { continuation.resume() }
    }

    func sleep(until deadline: ContinuousClock.Instant) async throws {
        let id = UUID()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let result: Result<Void, any Error>? = state.withLock { state in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if deadline <= state.now { return .success(()) }
                    state.sleepers[id] = (deadline, continuation)
                    return nil
                }
                if let result { continuation.resume(with: result) }
            }
        } onCancel: {
            state.withLock { $0.sleepers.removeValue(forKey: id) }?.continuation.resume(throwing: CancellationError())
        }
    }
}
