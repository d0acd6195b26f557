import Sandbox
import GolemJobs

/// How the local backend runs jobs on this machine.
public struct LocalBackendConfiguration: Sendable {
    /// Where per-attempt work directories are created (each removed on release).
    public var workRoot: String
    /// Limits for every `run` step.
    public var limits: SandboxLimits
    /// Bytes kept of a run step's stdout and of its stderr each.
    public var outputLimit: Int
    /// The largest file `downloadData` / `downloadJson` reads back.
    public var downloadLimit: Int
    /// The largest file `uploadData` / `uploadJson` writes.
    public var uploadLimit: Int
    /// What `started` reports as the provider.
    public var provider: ProviderInfo
    public var sandbox: SandboxConfiguration
    /// Sandboxes kept warm across jobs (started ahead, reset after each job), at most; a job that
    /// finds them all in use runs its steps in fresh sandboxes. Each costs two idle processes and a
    /// descriptor on the shared output thread. 0 gives every command a fresh sandbox (as does a missing
    /// warden binary).
    public var warmSandboxes: Int

    public init(
        workRoot: String = "/var/tmp/golem-bridge/local",
        limits: SandboxLimits = SandboxLimits(),
        outputLimit: Int = 1 << 20,
        downloadLimit: Int = 10 << 20,
        uploadLimit: Int = 10 << 20,
        provider: ProviderInfo = ProviderInfo(id: "local", name: "local"),
        sandbox: SandboxConfiguration = SandboxConfiguration(),
        warmSandboxes: Int = 4
    ) {
        self.warmSandboxes = warmSandboxes
        self.workRoot = workRoot
        self.limits = limits
        self.outputLimit = outputLimit
        self.downloadLimit = downloadLimit
        self.uploadLimit = uploadLimit
        self.provider = provider
        self.sandbox = sandbox
    }
}
