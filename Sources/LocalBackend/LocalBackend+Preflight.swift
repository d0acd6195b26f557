import Foundation
import Sandbox

extension LocalBackend {
    /// Checks, before any job runs, that the sandbox can use the work root: it exists (created if
    /// needed) and the sandbox's unprivileged user can reach it. bwrap binds each job's directory as
    /// that user, so a work root below a 0700 folder would fail every job with a confusing bwrap error.
    public func preflight() throws {
        let root = URL(fileURLWithPath: configuration.workRoot).standardizedFileURL.path
        do {
            try FileManager.default.createDirectory(
                atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755]
            )
        } catch {
            throw LocalBackendError("cannot create the work root \(root): \(error.localizedDescription)")
        }
        let (uid, _) = Sandbox(configuration: configuration.sandbox).effectiveHostIds
        guard uid != geteuid() else { return }
        // Every folder from / down to the root must be searchable by "others" (uid 65534 is neither
        // owner nor, normally, in the group).
        var path = ""
        for component in root.split(separator: "/") {
            path += "/\(component)"
            var info = stat()
            guard stat(path, &info) == 0 else {
                throw LocalBackendError("cannot inspect \(path) on the way to the work root: \(String(cString: strerror(errno)))")
            }
            if info.st_uid != uid && info.st_mode & S_IXOTH == 0 {
                throw LocalBackendError(
                    "the work root \(root) is not reachable by the sandbox user (uid \(uid)): \(path) has no search permission for others; choose another --work-root or run `chmod o+x \(path)`"
                )
            }
        }
    }
}

/// A local backend that cannot work as configured.
public struct LocalBackendError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
