import Glibc

/// Resource limits of a sandboxed command, set on the process before bubblewrap starts and inherited by
/// everything it runs; `nil` leaves one unset.
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
    /// The limits as setrlimit(2) resources and values (soft and hard alike), for the spawn helper,
    /// which also disables core dumps.
    var resourceLimits: [(resource: Int32, value: UInt64)] {
        var limits: [(Int32, UInt64)] = []
        if let cpuSeconds { limits.append((Int32(RLIMIT_CPU.rawValue), UInt64(cpuSeconds))) }
        if let memoryBytes { limits.append((Int32(RLIMIT_AS.rawValue), memoryBytes)) }
        if let maxProcesses { limits.append((Int32(__RLIMIT_NPROC.rawValue), UInt64(maxProcesses))) }
        if let maxFileSizeBytes { limits.append((Int32(RLIMIT_FSIZE.rawValue), maxFileSizeBytes)) }
        if let maxOpenFiles { limits.append((Int32(RLIMIT_NOFILE.rawValue), UInt64(maxOpenFiles))) }
        return limits
    }
}
