/// One step of a job's work, run in order on the job's provider.
public enum WorkStep: Sendable, Hashable {
    /// Run a command; a non-zero exit fails the job unless `allowFailure` is set.
    case run(RunStep)
    /// Write bytes to a path inside the job's working directory.
    case uploadData(to: String, bytes: [UInt8])
    /// Write a JSON document (already encoded, UTF-8) to a path.
    case uploadJson(to: String, json: [UInt8])
    /// Read a file back as bytes.
    case downloadData(from: String)
    /// Read a file back as a JSON document.
    case downloadJson(from: String)
    /// Fetch an http(s) URL into a path.
    case transfer(from: String, to: String)

    /// The step kind as the contract names it (`run`, `uploadData`, ...).
    public var kind: StepKind {
        switch self {
        case .run: .run
        case .uploadData: .uploadData
        case .uploadJson: .uploadJson
        case .downloadData: .downloadData
        case .downloadJson: .downloadJson
        case .transfer: .transfer
        }
    }
}

/// The contract's step kinds.
public enum StepKind: String, Sendable, Hashable, CaseIterable {
    case run, uploadData, uploadJson, downloadData, downloadJson, transfer
}

/// A command to run: a shell line or an executable with arguments.
public struct RunStep: Sendable, Hashable {
    public enum Command: Sendable, Hashable {
        /// Run through `/bin/sh -c`.
        case shell(String)
        /// Run an executable with arguments, no shell.
        case exec(command: String, args: [String])
    }

    public var command: Command
    public var env: [String: String]
    /// The step's own deadline. `nil` means only the job's deadline applies.
    public var timeout: Duration?
    /// When true a non-zero exit is recorded and the job goes on.
    public var allowFailure: Bool
    /// When true the output is also sent while the command runs, as `progress` events carrying a
    /// ``StepOutput`` (golem-js's `runAndStream`); the step's result still has all of it.
    public var stream: Bool

    public init(_ command: Command, env: [String: String] = [:], timeout: Duration? = nil, allowFailure: Bool = false, stream: Bool = false) {
        self.command = command
        self.env = env
        self.timeout = timeout
        self.allowFailure = allowFailure
        self.stream = stream
    }
}
