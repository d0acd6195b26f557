import Foundation
import GolemJobs
import Synchronization

/// What the dashboard knows: the recent jobs with their timelines, the last hour's per-minute figures,
/// and the live feed the page listens to. Fed by the bridge's own event stream (``record(_:labels:)``
/// is the bridge's event observer), never by reading the journal; everything is bounded, so a
/// long-running bridge holds at most ``Limits/jobs`` jobs and a slow page cannot make it buffer.
///
/// Kept in memory only: after a restart it shows the jobs from then on (a resumed job appears with
/// its next event). The journal stays the record; `golem-bridge status` reads it.
public final class JobBoard: Sendable {
    /// The bounds of what the board keeps.
    public struct Limits: Sendable, Hashable {
        /// Jobs kept; past it the oldest finished one is forgotten (the oldest of all if none finished).
        public var jobs = 2000
        /// Steps kept per job's timeline.
        public var timelineLength = 200
        /// Updates a live subscriber may have unread; one more and it is dropped (its page reconnects
        /// and reloads), so a stalled browser costs a fixed amount of memory.
        public var subscriberBuffer = 256

        public init() {}
    }

    /// One event as the live feed sends it: the job after the event, and the step it added.
    public struct Update: Sendable, Hashable {
        public var job: JobEntry
        public var step: JobEntry.Step
    }

    private struct Subscriber {
        var jobId: String?
        var continuation: AsyncStream<Update>.Continuation
    }

    private struct State {
        var jobs: [String: JobEntry] = [:]
        /// Job IDs in the order first seen.
        var order: [String] = []
        var minutes = MinuteBuckets()
        var subscribers: [Int: Subscriber] = [:]
        var nextSubscriber = 0
    }

    public let limits: Limits
    private let state = Mutex(State())

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    // MARK: Feeding

    /// Takes one event of a job (the bridge calls it once the event is journaled). Returns at once.
    /// An outcome or `ended` of a job that has already ended is a repeat (a rejected request delivered
    /// again) and is ignored.
    public func record(_ event: JobEvent, labels: [String: String]) {
        let step = JobEntry.Step(kind: event.kind, state: event.state, attempt: event.attempt, time: event.time, detail: Self.detail(of: event))
        let taken = state.withLock { state -> (Update, [(Int, Subscriber)])? in
            if let known = state.jobs[event.jobId], known.endedAt != nil, event.kind.isTerminalOutcome || event.kind == .ended {
                return nil
            }
            var entry = state.jobs[event.jobId] ?? {
                state.order.append(event.jobId)
                return JobEntry(jobId: event.jobId, labels: labels, phase: .waiting, state: event.state, attempt: event.attempt, firstSeen: event.time)
            }()
            Self.apply(event, step: step, to: &entry, timelineLength: limits.timelineLength)
            if event.kind.isTerminalOutcome, let outcome = Self.outcome(of: event.kind) {
                state.minutes.recordEnd(at: event.time, outcome: outcome, duration: entry.duration(now: event.time))
            }
            state.jobs[event.jobId] = entry
            Self.evict(&state, keeping: limits.jobs)
            let listeners = state.subscribers.filter { $0.value.jobId == nil || $0.value.jobId == event.jobId }
            return (Update(job: entry, step: step), Array(listeners))
        }
        guard let (update, listeners) = taken else { return }
        for (id, subscriber) in listeners {
            switch subscriber.continuation.yield(update) {
            case .enqueued: continue
            case .dropped:
                // Too far behind: end its stream rather than hold more for it.
                state.withLock { _ = $0.subscribers.removeValue(forKey: id) }
                subscriber.continuation.finish()
            case .terminated: state.withLock { _ = $0.subscribers.removeValue(forKey: id) }
            @unknown default: continue
            }
        }
    }

    static func apply(_ event: JobEvent, step: JobEntry.Step, to entry: inout JobEntry, timelineLength: Int) {
        entry.state = event.state
        entry.attempt = max(entry.attempt, event.attempt)
        if let provider = event.provider { entry.provider = provider.name.isEmpty ? provider.id : provider.name }
        switch event.kind {
        case .created: entry.phase = .waiting
        case .started:
            entry.phase = .running
            entry.startedAt = event.time
        case .progress: if !entry.phase.isFinished { entry.phase = .running }
        case .success: entry.phase = .succeeded
        case .error:
            entry.phase = .failed
            entry.error = event.error.map(errorText)
        case .canceled:
            entry.phase = .canceled
            entry.error = event.error.map(errorText)
        case .ended: entry.endedAt = event.time
        }
        // A streaming step's output pieces are not steps: they stay off the timeline.
        guard event.output == nil else { return }
        if entry.timeline.count < timelineLength || event.kind != .progress {
            entry.timeline.append(step)
        } else {
            entry.droppedSteps += 1
        }
    }

    static func outcome(of kind: JobEvent.Kind) -> MinuteBuckets.Outcome? {
        switch kind {
        case .success: .succeeded
        case .error: .failed
        case .canceled: .canceled
        default: nil
        }
    }

    static func detail(of event: JobEvent) -> String? {
        switch event.kind {
        case .started: event.provider.map { $0.name.isEmpty ? $0.id : "\($0.name) (\($0.id))" }
        case .progress:
            event.step.map { step in "step \(step.index) \(step.kind)" + (step.exitCode.map { ", exit \($0)" } ?? "") }
        case .error, .canceled: event.error.map(errorText)
        default: nil
        }
    }

    /// `code: message`, without the code twice when the message starts with it.
    static func errorText(_ error: JobError) -> String {
        error.message.hasPrefix(error.code.rawValue) ? error.message : error.description
    }

    private static func evict(_ state: inout State, keeping limit: Int) {
        while state.order.count > limit {
            let index = state.order.firstIndex { state.jobs[$0]?.phase.isFinished ?? true } ?? 0
            state.jobs[state.order.remove(at: index)] = nil
        }
    }

    // MARK: Reading

    /// The jobs `filter` selects, the most recently seen first, at most `filter.limit`.
    public func jobs(_ filter: JobFilter = JobFilter()) -> [JobEntry] {
        state.withLock { state in
            var selected: [JobEntry] = []
            for id in state.order.reversed() {
                guard selected.count < filter.limit else { break }
                if let entry = state.jobs[id], entry.matches(filter) { selected.append(entry) }
            }
            return selected
        }
    }

    public func job(id: String) -> JobEntry? { state.withLock { $0.jobs[id] } }

    /// How many jobs the board holds in each phase.
    public func counts() -> [JobEntry.Phase: Int] {
        state.withLock { state in
            state.jobs.values.reduce(into: [:]) { counts, entry in counts[entry.phase, default: 0] += 1 }
        }
    }

    /// The last hour's per-minute figures, oldest first.
    public func lastHour(endingAt now: Date) -> [MinuteBuckets.Bucket] { state.withLock { $0.minutes.lastHour(endingAt: now) } }

    // MARK: Live feed

    /// The updates from now on, of one job or (`jobId` nil) of all. The stream ends when the
    /// subscriber falls ``Limits/subscriberBuffer`` updates behind, or at ``closeSubscriptions()``.
    public func subscribe(jobId: String? = nil) -> AsyncStream<Update> {
        let (stream, continuation) = AsyncStream.makeStream(of: Update.self, bufferingPolicy: .bufferingOldest(limits.subscriberBuffer))
        let id = state.withLock { state in
            let id = state.nextSubscriber
            state.nextSubscriber += 1
            state.subscribers[id] = Subscriber(jobId: jobId, continuation: continuation)
            return id
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    /// The number of live subscribers.
    public var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    /// Ends every live stream (at shutdown, so open pages do not hold the server).
    public func closeSubscriptions() {
        let all = state.withLock { state in
            defer { state.subscribers.removeAll() }
            return Array(state.subscribers.values)
        }
        for subscriber in all { subscriber.continuation.finish() }
    }
}
