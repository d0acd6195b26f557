/// What a finished step produced.
public struct StepResult: Sendable, Hashable {
    /// The step's 0-based position in the job's `work`.
    public var index: Int
    public var kind: StepKind
    /// Set for `run` steps.
    public var exitCode: Int32?
    /// Captured output of `run` steps, UTF-8 (invalid bytes replaced), bounded by the backend.
    public var stdout: String?
    public var stderr: String?
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
}

/// A successful job's result: every step's result in order, and the last `run` step's stdout.
public struct JobResult: Sendable, Hashable {
    public var steps: [StepResult]
    /// The stdout of the last `run` step, or `nil` when the job ran none.
    public var output: String?

    public init(steps: [StepResult]) {
        self.steps = steps
        self.output = steps.last(where: { $0.kind == .run })?.stdout
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
