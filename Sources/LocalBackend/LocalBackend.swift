import BlockingWork
import Foundation
import GolemJobs
import Logging
import Sandbox

/// A ``JobBackend`` that runs each job on this machine, in bubblewrap: no network, the host read-only,
/// a fresh work directory per attempt at `/golem/work`.
///
/// `acquire` takes a warm sandbox from the pool (``WarmSandboxPool``: started ahead, reset after
/// each job, replaced when a job broke it), or, without one, creates a work directory whose steps
/// each get a fresh sandbox. `transfer` steps fail with `command_failed`: the sandbox has no network.
public struct LocalBackend: JobBackend {
    public let configuration: LocalBackendConfiguration
    private let sandbox: Sandbox
    private let pool: WarmSandboxPool?

    public init(configuration: LocalBackendConfiguration, logger: Logger) {
        self.configuration = configuration
        self.sandbox = Sandbox(configuration: configuration.sandbox)
        self.pool = WarmSandboxPool(sandbox: sandbox, workRoot: configuration.workRoot, size: configuration.warmSandboxes, logger: logger)
        if pool == nil, configuration.warmSandboxes > 0 {
            logger.notice("no sandbox warden beside the executable: every command gets a fresh sandbox")
        }
        logger.debug("local backend ready", metadata: ["workRoot": "\(configuration.workRoot)"])
    }

    /// Ends the warm sandboxes (those in use end when their job releases them).
    public func shutdown() async {
        await pool?.shutdown()
    }

    /// Starts the warm sandboxes in the background.
    func fillPool() {
        pool?.fill()
    }

    public func acquire(jobId: String, spec: JobSpec, attempt: Int, logger: Logger) async throws -> any JobRental {
        try Task.checkCancellation()
        if let pool {
            do {
                if let warm = try await pool.checkout() {
                    pool.fill()
                    logger.debug("warm sandbox taken", metadata: ["workDirectory": "\(warm.workDirectory)"])
                    return LocalRental(configuration: configuration, sandbox: sandbox, workDirectory: warm.workDirectory, warm: warm, pool: pool)
                }
            } catch {
                logger.warning("no warm sandbox, a fresh one per step instead", metadata: ["error": "\(error)"])
            }
        }
        let safeId = String(jobId.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }.prefix(128))
        let directory = "\(configuration.workRoot)/\(safeId)-\(attempt)-\(UUID().uuidString.prefix(8))"
        let workRoot = configuration.workRoot
        do {
            // Searchable by the sandbox's unprivileged uid, whatever the umask: bwrap binds from inside it.
            try await BlockingIO.run {
                try FileManager.default.createDirectory(
                    atPath: workRoot, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755]
                )
            }
            try await sandbox.prepareWorkDirectory(directory)
        } catch {
            throw JobError(.providerFailed, "local backend cannot create a work directory: \(error)")
        }
        logger.debug("local work directory created", metadata: ["workDirectory": "\(directory)"])
        return LocalRental(configuration: configuration, sandbox: sandbox, workDirectory: directory)
    }
}
