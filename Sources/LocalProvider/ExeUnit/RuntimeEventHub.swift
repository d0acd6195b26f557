import FlexBuffers
import Foundation
import Synchronization
import Yagna

/// The `RuntimeEvent`s of running batches, for whoever streams them (`StreamExecBatchResults`). As
/// with the exe-unit's broadcast channel, a listener gets what happens after it subscribed, and a
/// listener too slow to keep up loses the oldest events (at most ``buffer`` wait per listener). Safe
/// from any thread: a command's output is emitted from the Sandbox's output thread.
final class RuntimeEventHub: Sendable {
    static let buffer = 1024
    private let listeners = Mutex<[String: [UUID: AsyncStream<FlexValue>.Continuation]]>([:])

    /// The events of `batchId` from now on; the stream ends with the batch (``end(_:)``).
    func subscribe(_ batchId: String) -> AsyncStream<FlexValue> {
        let (stream, continuation) = AsyncStream.makeStream(of: FlexValue.self, bufferingPolicy: .bufferingNewest(Self.buffer))
        let id = UUID()
        listeners.withLock { $0[batchId, default: [:]][id] = continuation }
        continuation.onTermination = { [weak self] _ in
            self?.listeners.withLock { listeners in
                listeners[batchId]?[id] = nil
                if listeners[batchId]?.isEmpty == true { listeners[batchId] = nil }
            }
        }
        return stream
    }

    /// Sends an event to the batch's listeners; `kind` is made only when there is one.
    func emit(_ batchId: String, index: Int, _ kind: @autoclosure () -> FlexValue) {
        let continuations = listeners.withLock { $0[batchId].map { Array($0.values) } ?? [] }
        guard !continuations.isEmpty else { return }
        let event = RuntimeEvents.event(batchId: batchId, index: index, at: Date(), kind: kind())
        for continuation in continuations { continuation.yield(event) }
    }

    /// The batch ended: every stream of it ends.
    func end(_ batchId: String) {
        let continuations = listeners.withLock { $0.removeValue(forKey: batchId).map { Array($0.values) } ?? [] }
        for continuation in continuations { continuation.finish() }
    }

    /// A stream that has ended already (a batch that is over).
    static func ended() -> AsyncStream<FlexValue> {
        let (stream, continuation) = AsyncStream.makeStream(of: FlexValue.self)
        continuation.finish()
        return stream
    }

    /// The output handler of a `run` whose capture streams stdout and/or stderr: each read becomes a
    /// `stdout`/`stderr` event, up to the capture's `limit` per stream (the bytes the result keeps).
    func outputHandler(batchId: String, index: Int, capture: ExeScriptCommand.Capture) -> (@Sendable (_ stderr: Bool, _ bytes: ArraySlice<UInt8>) -> Void)? {
        func streamed(_ mode: ExeScriptCommand.Capture.Mode?) -> (limit: Int, binary: Bool)? {
            guard case .stream(let limit, let format) = mode else { return nil }
            return (limit ?? .max, format == .bin)
        }
        let out = streamed(capture.stdout), err = streamed(capture.stderr)
        guard out != nil || err != nil else { return nil }
        let sent = Mutex((stdout: 0, stderr: 0))
        return { [self] stderr, bytes in
            guard let mode = stderr ? err : out else { return }
            let room = sent.withLock { sent -> Int in
                let already = stderr ? sent.stderr : sent.stdout
                let room = max(0, min(bytes.count, mode.limit - already))
                if stderr { sent.stderr += room } else { sent.stdout += room }
                return room
            }
            guard room > 0 else { return }
            emit(batchId, index: index, RuntimeEvents.output(stderr: stderr, bytes.prefix(room), binary: mode.binary))
        }
    }
}
