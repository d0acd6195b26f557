import BlockingWork
import Foundation
import GolemJobs
import Logging
import Sandbox

/// A ``JobBackend`` that runs each job on this machine, in bubblewrap: no network, the host read-only,
/// a fresh work directory per attempt at `/golem/work`.
///
/// `acquire` only creates the work directory (instant; the engine limits concurrency). `transfer`
/// steps fail with `command_failed`: the sandbox has no network.
public struct LocalBackend: JobBackend {
    public let configuration: LocalBackendConfiguration
    private let sandbox: Sandbox

    public init(configuration: LocalBackendConfiguration, logger: Logger) {
        self.configuration = configuration
        self.sandbox = Sandbox(configuration: configuration.sandbox)
        logger.debug("local backend ready", metadata: ["workRoot": "\(configuration.workRoot)"])
    }

    public func acquire(jobId: String, spec: JobSpec, attempt: Int, logger: Logger) async throws -> any JobRental {
        try Task.checkCancellation()
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
