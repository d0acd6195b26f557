import Synchronization

/// Carries a streaming run step's output from the backend (its ``StepOutputSink``, on the backend's
/// thread) to the job as ``StepOutput`` pieces, at most one batch every `interval` (250 ms: 4 a second),
/// each piece at most 16 KiB. The first output of a quiet step goes out at once.
final class StepOutputStreamer: Sendable {
    private let coalescer: Mutex<OutputCoalescer>
    private let signals: AsyncStream<Void>
    private let signal: AsyncStream<Void>.Continuation

    init(step: Int) {
        coalescer = Mutex(OutputCoalescer(step: step))
        (signals, signal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// What the backend is given: gathers a read and wakes ``run(clock:interval:deliver:)``.
    var sink: StepOutputSink {
        { [self] stream, bytes, cut in
            coalescer.withLock { $0.append(stream, bytes, cut: cut) }
            signal.yield()
        }
    }

    /// Delivers gathered pieces when output comes, then waits `interval` before the next batch; returns
    /// when cancelled. ``finish()`` then takes the rest.
    func run(clock: any Clock<Duration>, interval: Duration = .milliseconds(250), deliver: (StepOutput) -> Void) async {
        for await _ in signals {
            let pieces = coalescer.withLock { $0.take() }
            if pieces.isEmpty { continue }
            for piece in pieces { deliver(piece) }
            do { try await clock.sleepFor(interval) } catch { return }
        }
    }

    /// The rest, once the step ended (and ``run(clock:interval:deliver:)`` returned).
    func finish() -> [StepOutput] {
        signal.finish()
        return coalescer.withLock { $0.take(final: true) }
    }
}
