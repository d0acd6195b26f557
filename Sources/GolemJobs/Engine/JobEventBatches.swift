import Synchronization

/// A job's events in batches, for a consumer that handles several events at once (the bridge
/// journals a batch in one transaction and publishes it under one wake-up of the publisher).
///
/// Created by ``Job/eventBatches``: the first ``next()`` returns every event that already happened;
/// later ones return the events of one or more steps of the job, in order, as soon as the step that
/// emitted them is done (the events one step emits together come in one batch). `nil` once the job
/// ended or was suspended and everything was returned, or when the calling task is cancelled.
/// Iterate it from one task.
public final class JobEventBatches: Sendable {
    private struct State {
        var events: [JobEvent] = []
        var finished = false
        var waiter: CheckedContinuation<[JobEvent]?, Never>?
    }

    private let state = Mutex(State())

    init(history: [JobEvent], finished: Bool) {
        state.withLock {
            $0.events = history
            $0.finished = finished
        }
    }

    /// The events since the previous call; waits while there are none. `nil` at the end.
    public func next() async -> [JobEvent]? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<[JobEvent]?, Never>) in
                let now = state.withLock { state -> [JobEvent]?? in
                    if !state.events.isEmpty {
                        defer { state.events = [] }
                        return .some(state.events)
                    }
                    if state.finished || Task.isCancelled { return .some(nil) }
                    state.waiter = continuation
                    return nil
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            state.withLock { state -> CheckedContinuation<[JobEvent]?, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }?.resume(returning: nil)
        }
    }

    /// Hands over the events of one turn of the job (and, with `finished`, says none follow); wakes a
    /// waiting ``next()`` once for all of them.
    func deliver(_ events: [JobEvent], finished: Bool) {
        let handOver = state.withLock { state -> (CheckedContinuation<[JobEvent]?, Never>, [JobEvent]?)? in
            state.events.append(contentsOf: events)
            if finished { state.finished = true }
            guard let waiter = state.waiter, !state.events.isEmpty || state.finished else { return nil }
            state.waiter = nil
            defer { state.events = [] }
            return (waiter, state.events.isEmpty ? nil : state.events)
        }
        if let (waiter, events) = handOver { waiter.resume(returning: events) }
    }
}
