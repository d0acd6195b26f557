import Foundation

/// How sandboxes are built on this host.
public struct SandboxConfiguration: Sendable, Hashable {
    /// The bubblewrap binary.
    public var bwrapPath: String
    /// Host paths mounted read-only at the same place. A path that is a symlink on the host (merged
    /// /usr: /bin → usr/bin) becomes the same symlink; a missing one is skipped.
    public var readOnlyPaths: [String]
    /// The user and group the command runs as inside its own user namespace (nobody, by default).
    public var uid: Int
    public var gid: Int
    /// The sandbox's host name.
    public var hostname: String
    /// When this process runs as root: the host uid and gid that bubblewrap is started as (the spawn
    /// helper drops to them before exec), so the job is no host root even outside its namespace. It
    /// matters for more than hygiene: the kernel exempts processes of host root from RLIMIT_NPROC, so
    /// only then does `maxProcesses` contain a fork bomb. Work directories must be writable by this
    /// uid (see ``Sandbox/prepareWorkDirectory(_:)``). `nil` starts bubblewrap as the current user.
    public var hostUid: UInt32?
    public var hostGid: UInt32?
    /// The warm sandboxes' PID 1 (`golem-sandbox-warden`, built with the bridge). `nil` looks for it
    /// beside the running executable; when it is not there, every command gets a fresh sandbox.
    public var wardenPath: String?

    public init(
        bwrapPath: String = "/usr/bin/bwrap",
        readOnlyPaths: [String] = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc"],
        uid: Int = 65534,
        gid: Int = 65534,
        hostname: String = "golem-sandbox",
        hostUid: UInt32? = 65534,
        hostGid: UInt32? = 65534,
        wardenPath: String? = nil
    ) {
        self.wardenPath = wardenPath
        self.hostUid = hostUid
        self.hostGid = hostGid
        self.bwrapPath = bwrapPath
        self.readOnlyPaths = readOnlyPaths
        self.uid = uid
        self.gid = gid
        self.hostname = hostname
    }
}
