/// Resource limits applied inside the sandbox (`prlimit` before the command runs); `nil` leaves one unset.
///
/// `maxProcesses` (RLIMIT_NPROC) counts the processes of the sandbox's user in its own user namespace
/// (Linux ≥ 5.14 counts per namespace), so a fork bomb hits it without touching the host's processes.
public struct SandboxLimits: Sendable, Hashable {
    /// CPU time per process, in seconds (RLIMIT_CPU): the process gets SIGXCPU, exit code 152.
    public var cpuSeconds: Int?
    /// Address space per process, in bytes (RLIMIT_AS): allocations beyond it fail.
    public var memoryBytes: UInt64?
    /// Processes and threads of the sandbox's user (RLIMIT_NPROC): `fork` beyond it fails.
    public var maxProcesses: Int?
    /// Largest file a process may write, in bytes (RLIMIT_FSIZE): SIGXFSZ beyond it.
    public var maxFileSizeBytes: UInt64?
    /// Open file descriptors per process (RLIMIT_NOFILE).
    public var maxOpenFiles: Int?

    public init(
        cpuSeconds: Int? = 300,
        memoryBytes: UInt64? = 1 << 30,
        maxProcesses: Int? = 128,
        maxFileSizeBytes: UInt64? = 1 << 30,
        maxOpenFiles: Int? = 1024
    ) {
        self.cpuSeconds = cpuSeconds
        self.memoryBytes = memoryBytes
        self.maxProcesses = maxProcesses
        self.maxFileSizeBytes = maxFileSizeBytes
        self.maxOpenFiles = maxOpenFiles
    }

    /// The `prlimit` options that set these limits (soft and hard alike), plus no core dumps.
    var prlimitArguments: [String] {
        var arguments = ["--core=0"]
        if let cpuSeconds { arguments.append("--cpu=\(cpuSeconds)") }
        if let memoryBytes { arguments.append("--as=\(memoryBytes)") }
        if let maxProcesses { arguments.append("--nproc=\(maxProcesses)") }
        if let maxFileSizeBytes { arguments.append("--fsize=\(maxFileSizeBytes)") }
        if let maxOpenFiles { arguments.append("--nofile=\(maxOpenFiles)") }
        return arguments
    }
}
