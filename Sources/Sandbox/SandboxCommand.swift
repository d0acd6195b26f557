/// One command to run in a fresh sandbox.
public struct SandboxCommand: Sendable, Hashable {
    /// The program (looked up in the sandbox's PATH when it has no slash) and its arguments.
    public var executable: String
    public var arguments: [String]
    /// Added to the sandbox's base environment (PATH, HOME=/golem/work, TMPDIR=/tmp, LANG).
    public var environment: [String: String]
    /// The host directory bound read-write at `/golem/work`; it must exist.
    public var workDirectory: String
    public var limits: SandboxLimits
    /// Bytes kept of stdout and of stderr each; the rest is read and dropped, and marked truncated.
    public var outputLimit: Int
    /// Kills the command after this long (wall clock); `nil` means no limit besides cancellation.
    public var timeout: Duration?

    public init(
        executable: String, arguments: [String] = [], environment: [String: String] = [:],
        workDirectory: String, limits: SandboxLimits = SandboxLimits(), outputLimit: Int = 1 << 20,
        timeout: Duration? = nil
    ) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.workDirectory = workDirectory
        self.limits = limits
        self.outputLimit = outputLimit
        self.timeout = timeout
    }

    /// A shell line run by `/bin/sh -c`.
    public static func shell(
        _ line: String, environment: [String: String] = [:], workDirectory: String,
        limits: SandboxLimits = SandboxLimits(), outputLimit: Int = 1 << 20, timeout: Duration? = nil
    ) -> SandboxCommand {
        SandboxCommand(
            executable: "/bin/sh", arguments: ["-c", line], environment: environment, workDirectory: workDirectory,
            limits: limits, outputLimit: outputLimit, timeout: timeout
        )
    }
}

/// How a sandboxed command ended.
public struct SandboxResult: Sendable, Hashable {
    /// The exit status; 128+n when signal n killed it (137 for SIGKILL, 152 for the CPU limit).
    public var exitCode: Int32
    public var stdout: [UInt8]
    public var stderr: [UInt8]
    public var stdoutTruncated: Bool
    public var stderrTruncated: Bool
    /// True when `SandboxCommand.timeout` killed it.
    public var timedOut: Bool

    public init(
        exitCode: Int32, stdout: [UInt8], stderr: [UInt8], stdoutTruncated: Bool = false,
        stderrTruncated: Bool = false, timedOut: Bool = false
    ) {
        self.exitCode = exitCode
        self.stdout = stdout
        self.stderr = stderr
        self.stdoutTruncated = stdoutTruncated
        self.stderrTruncated = stderrTruncated
        self.timedOut = timedOut
    }
}

/// The sandbox could not run the command at all (its exit status is a `SandboxResult`, not this).
public struct SandboxError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
