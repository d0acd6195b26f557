import BlockingWork
import Foundation
import Sandbox

extension LocalBackend {
    /// Checks, before any job runs, that the sandbox can use the work root: it exists (created if
    /// needed) and the sandbox's unprivileged user can reach it (``Sandbox/prepareWorkRoot(_:)``); then
    /// removes what warm sandboxes of a bridge that ended left there and starts this one's.
    public func preflight() async throws {
        do {
            let root = try await Sandbox(configuration: configuration.sandbox).prepareWorkRoot(configuration.workRoot)
            await BlockingIO.run { WarmSandboxPool.removeLeftovers(in: root) }
        } catch let error as SandboxError {
            throw LocalBackendError(error.description)
        }
        fillPool()
    }
}

/// A local backend that cannot work as configured.
public struct LocalBackendError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
