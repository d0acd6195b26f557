/// Gathers a streaming run step's output into the pieces its `progress` events carry. Pure logic:
/// the caller decides when to take (the engine does at most every 250 ms, see ``StepOutputStreamer``).
///
/// Pieces keep the order output arrived in (adjacent reads of one stream are merged), are at most
/// `maxPiece` bytes of text, and never split a UTF-8 character: an incomplete one at the end of a read
/// waits for the rest (invalid bytes become U+FFFD, as in the step's result). A stream cut at its
/// limit ends with one piece marked `truncated`.
public struct OutputCoalescer: Sendable {
    public let step: Int
    public let maxPiece: Int

    private var segments: [(stream: StepOutput.Stream, bytes: [UInt8])] = []
    /// Per stream (stdout, stderr): the start of a character whose rest has not come yet.
    private var carry: [[UInt8]] = [[], []]
    private var cut: [Bool] = [false, false]
    private var cutNoted: [Bool] = [false, false]

    public init(step: Int, maxPiece: Int = 16 * 1024) {
        self.step = step
        self.maxPiece = max(maxPiece, 4)
    }

    /// Bytes gathered and not yet taken.
    public var pendingBytes: Int { segments.reduce(0) { $0 + $1.bytes.count } }

    /// Adds one read of `stream`; `cut` says the stream reached its limit (nothing more will come).
    public mutating func append(_ stream: StepOutput.Stream, _ bytes: ArraySlice<UInt8>, cut: Bool = false) {
        let slot = Self.slot(stream)
        guard !self.cut[slot] else { return }
        var data = carry[slot]
        data.append(contentsOf: bytes)
        let whole = cut ? data.count : Self.wholeCharacters(data)
        carry[slot] = Array(data[whole...])
        if whole > 0 { add(stream, data[..<whole]) }
        if cut { self.cut[slot] = true }
    }

    /// Takes what was gathered as pieces, in order. `final` (the step ended) also takes a character
    /// still incomplete.
    public mutating func take(final: Bool = false) -> [StepOutput] {
        if final {
            for stream in [StepOutput.Stream.stdout, .stderr] where !carry[Self.slot(stream)].isEmpty {
                add(stream, carry[Self.slot(stream)][...])
                carry[Self.slot(stream)] = []
            }
        }
        var pieces: [StepOutput] = []
        for segment in segments {
            var rest = segment.bytes[...]
            while !rest.isEmpty {
                var end = rest.startIndex + min(maxPiece, rest.count)
                if end < rest.endIndex { end = rest.startIndex + Self.wholeCharacters(rest[..<end]) }
                if end == rest.startIndex { end = rest.startIndex + min(maxPiece, rest.count) }
                pieces.append(StepOutput(step: step, stream: segment.stream, text: String(decoding: rest[..<end], as: UTF8.self)))
                rest = rest[end...]
            }
        }
        segments = []
        for stream in [StepOutput.Stream.stdout, .stderr] where cut[Self.slot(stream)] && !cutNoted[Self.slot(stream)] {
            cutNoted[Self.slot(stream)] = true
            if let last = pieces.lastIndex(where: { $0.stream == stream }) {
                pieces[last].truncated = true
            } else {
                pieces.append(StepOutput(step: step, stream: stream, text: "", truncated: true))
            }
        }
        return pieces
    }

    private mutating func add(_ stream: StepOutput.Stream, _ bytes: ArraySlice<UInt8>) {
        if let last = segments.indices.last, segments[last].stream == stream {
            segments[last].bytes.append(contentsOf: bytes)
        } else {
            segments.append((stream, Array(bytes)))
        }
    }

    private static func slot(_ stream: StepOutput.Stream) -> Int { stream == .stdout ? 0 : 1 }

    /// How many leading bytes of `data` end on a character boundary: all of them unless the last
    /// (up to three) bytes start a UTF-8 sequence that needs more.
    static func wholeCharacters<C: RandomAccessCollection>(_ data: C) -> Int where C.Element == UInt8 {
        let count = data.count
        var back = 0
        var index = data.endIndex
        while back < min(3, count) {
            index = data.index(before: index)
            back += 1
            let byte = data[index]
            if byte & 0xC0 == 0x80 { continue } // a continuation byte: look further back
            let needed = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
            return needed > back ? count - back : count
        }
        return count
    }
}
