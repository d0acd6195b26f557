/// What a finished step produced.
public struct StepResult: Sendable, Hashable {
    /// The step's 0-based position in the job's `work`.
    public var index: Int
    public var kind: StepKind
    /// Set for `run` steps.
    public var exitCode: Int32?
    /// Captured output of `run` steps as text, bounded by the backend: exact when the bytes are UTF-8,
    /// else each invalid sequence replaced by U+FFFD and the exact bytes in ``stdoutBytes``.
    public var stdout: String?
    public var stderr: String?
    /// The exact bytes of stdout when they are not UTF-8 (a PNG, a NUL byte is UTF-8); nil when
    /// ``stdout`` holds them exactly. The wire carries them as `stdoutBase64`.
    public var stdoutBytes: [UInt8]?
    /// As ``stdoutBytes``, for stderr.
    public var stderrBytes: [UInt8]?
    /// True when the backend cut stdout or stderr at its output limit.
    public var outputTruncated: Bool
    /// Bytes read back by `downloadData` or `downloadJson`.
    public var data: [UInt8]?

    public init(
        index: Int, kind: StepKind, exitCode: Int32? = nil, stdout: String? = nil, stderr: String? = nil,
        outputTruncated: Bool = false, data: [UInt8]? = nil
    ) {
        self.index = index
        self.kind = kind
        self.exitCode = exitCode
        self.stdout = stdout
        self.stderr = stderr
        self.outputTruncated = outputTruncated
        self.data = data
    }

    /// A finished `run`'s result from the bytes it wrote: each stream as text, and its exact bytes
    /// beside it only when they are not UTF-8. An output cut at the limit in the middle of a
    /// character loses that character's first bytes (the cut is moved back to where it starts), so a
    /// truncated text stays text.
    public static func run(
        index: Int, exitCode: Int32, stdout: [UInt8], stderr: [UInt8], stdoutTruncated: Bool = false, stderrTruncated: Bool = false
    ) -> StepResult {
        let out = CapturedText(stdout, truncated: stdoutTruncated)
        let err = CapturedText(stderr, truncated: stderrTruncated)
        var result = StepResult(
            index: index, kind: .run, exitCode: exitCode, stdout: out.text, stderr: err.text,
            outputTruncated: stdoutTruncated || stderrTruncated
        )
        result.stdoutBytes = out.bytes
        result.stderrBytes = err.bytes
        return result
    }
}

/// Captured output read as text: the text, and the exact bytes when they are not UTF-8. Pure.
public struct CapturedText: Sendable, Hashable {
    /// The bytes as UTF-8, each invalid sequence replaced by U+FFFD.
    public var text: String
    /// The exact bytes, or nil when ``text`` is exact.
    public var bytes: [UInt8]?

    /// `truncated`: the bytes were cut at an output limit, so an incomplete character at their end
    /// is the cut's doing, not the command's: it is dropped rather than making the output binary.
    public init(_ bytes: [UInt8], truncated: Bool = false) {
        if let text = String(validating: bytes, as: UTF8.self) {
            self.text = text
            self.bytes = nil
            return
        }
        if truncated, let start = Self.incompleteTail(of: bytes), let text = String(validating: bytes[..<start], as: UTF8.self) {
            self.text = text
            self.bytes = nil
            return
        }
        self.text = String(decoding: bytes, as: UTF8.self)
        self.bytes = bytes
    }

    /// Where an incomplete UTF-8 sequence at the end of `bytes` starts (a lead byte followed by
    /// fewer continuation bytes than it announces), or nil when the end is not one.
    static func incompleteTail(of bytes: [UInt8]) -> Int? {
        var start = bytes.count
        // At most 3 bytes of a 4-byte sequence can be left: a lead byte and up to 2 continuations.
        while start > 0, bytes.count - start < 3, bytes[start - 1] & 0xC0 == 0x80 { start -= 1 }
        guard start > 0 else { return nil }
        let lead = bytes[start - 1]
        let length = lead >= 0xF0 && lead < 0xF8 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC2 ? 2 : 0
        guard length > 0, lead < 0xF8, bytes.count - (start - 1) < length else { return nil }
        return start - 1
    }
}

/// A successful job's result: every step's result in order, and the last `run` step's stdout.
public struct JobResult: Sendable, Hashable {
    public var steps: [StepResult]
    /// The stdout of the last `run` step, or `nil` when the job ran none.
    public var output: String?
    /// That stdout's exact bytes when they are not UTF-8 (``StepResult/stdoutBytes``).
    public var outputBytes: [UInt8]?

    public init(steps: [StepResult]) {
        self.steps = steps
        let last = steps.last(where: { $0.kind == .run })
        self.output = last?.stdout
        self.outputBytes = last?.stdoutBytes
    }
}

/// The provider a job attempt runs on.
public struct ProviderInfo: Sendable, Hashable {
    public var id: String
    public var name: String

    public init(id: String, name: String) {
        self.id = id
        self.name = name
    }
}
