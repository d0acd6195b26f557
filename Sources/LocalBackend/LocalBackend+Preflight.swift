import Foundation
import Sandbox

extension LocalBackend {
    /// Checks, before any job runs, that the sandbox can use the work root: it exists (created if
    /// needed) and the sandbox's unprivileged user can reach it (``Sandbox/prepareWorkRoot(_:)``).
    public func preflight() async throws {
        do {
            try await Sandbox(configuration: configuration.sandbox).prepareWorkRoot(configuration.workRoot)
        } catch let error as SandboxError {
            throw LocalBackendError(error.description)
        }
    }
}

/// A local backend that cannot work as configured.
public struct LocalBackendError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
