/// A piece of a streaming run step's output, sent in a `progress` event while the step runs.
///
/// Pieces of one stream, in order, add up to the start of what the step's result will hold; after
/// the step's output limit nothing more is sent, and the last piece says so with `truncated`.
public struct StepOutput: Sendable, Hashable {
    public enum Stream: String, Sendable, Hashable {
        case stdout, stderr
    }

    /// The running step's 0-based position in the job's `work`.
    public var step: Int
    public var stream: Stream
    /// UTF-8 text; a character split between reads is held back until it is whole.
    public var text: String
    /// True on the piece after which the stream was cut at the step's output limit.
    public var truncated: Bool

    public init(step: Int, stream: Stream, text: String, truncated: Bool = false) {
        self.step = step
        self.stream = stream
        self.text = text
        self.truncated = truncated
    }
}
