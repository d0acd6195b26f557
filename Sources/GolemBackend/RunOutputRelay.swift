import GolemJobs
import Yagna

/// Which of a batch's ``RuntimeEvent``s reach a streaming `run` step's ``StepOutputSink``, and how much
/// of them. Pure.
///
/// Only the watched command's stdout and stderr pass (the batch's other commands, e.g. the cleanup
/// after the job's last step, are not the step's output); each stream at most `limit` bytes, the
/// piece that reaches it cut there and marked `cut`, nothing after: the provider keeps no more, so
/// output of exactly the limit counts as cut, as the step's result is then marked truncated.
/// ``finished`` turns true with the command's `finished` event.
struct RunOutputRelay {
    /// The command's index in its batch.
    let index: Int
    let limit: Int
    private(set) var finished = false
    private var sent = [0, 0]
    private var cut = [false, false]

    init(index: Int, limit: Int) {
        self.index = index
        self.limit = max(limit, 0)
    }

    struct Piece: Equatable {
        var stream: StepOutput.Stream
        var bytes: ArraySlice<UInt8>
        var cut: Bool
    }

    /// What `event` gives the sink, if anything.
    mutating func take(_ event: RuntimeEvent) -> Piece? {
        guard event.index == index else { return nil }
        switch event.kind {
        case .finished:
            finished = true
            return nil
        case .stdout(let output):
            return piece(.stdout, StepScript.bytes(of: output))
        case .stderr(let output):
            return piece(.stderr, StepScript.bytes(of: output))
        case .started, .progress, .unknown:
            return nil
        }
    }

    private mutating func piece(_ stream: StepOutput.Stream, _ bytes: [UInt8]) -> Piece? {
        let slot = stream == .stdout ? 0 : 1
        guard !cut[slot], !bytes.isEmpty else { return nil }
        let room = limit - sent[slot]
        if bytes.count < room {
            sent[slot] += bytes.count
            return Piece(stream: stream, bytes: bytes[...], cut: false)
        }
        cut[slot] = true
        sent[slot] = limit
        return Piece(stream: stream, bytes: bytes.prefix(room), cut: true)
    }
}
