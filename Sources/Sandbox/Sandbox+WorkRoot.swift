import BlockingWork
#if canImport(Glibc)
import Glibc
#endif
import Foundation

extension Sandbox {
    /// Makes sure commands can run below `root` before the first one does: creates it (0755) if
    /// needed and checks that the sandbox's unprivileged users can reach it. bwrap binds each job's
    /// directory as that user, so a root below a 0700 folder (what `mktemp -d` makes) would fail
    /// every command with a bwrap error that names neither the folder nor the cause.
    ///
    /// Returns the standardized path. Throws a `SandboxError` that names the folder and the fix.
    /// Runs on ``BlockingIO``.
    @discardableResult
    public func prepareWorkRoot(_ root: String) async throws -> String {
        try await BlockingIO.run { try checkWorkRoot(root) }
    }

    private func checkWorkRoot(_ root: String) throws -> String {
        let path = URL(fileURLWithPath: root).standardizedFileURL.path
        do {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755]
            )
        } catch {
            throw SandboxError("cannot create the work root \(path): \(error.localizedDescription)")
        }
        let (uid, _) = effectiveHostIds
        guard uid != geteuid() else { return path }
        // Commands run as `hostUid` or as a uid of the pool; neither owns the folders on the way
        // nor is, normally, in their group, so each folder from / down must be searchable by others.
        var prefix = ""
        for component in path.split(separator: "/") {
            prefix += "/\(component)"
            var info = stat()
            guard stat(prefix, &info) == 0 else {
                throw SandboxError("cannot inspect \(prefix) on the way to the work root: \(String(cString: strerror(errno)))")
            }
            if info.st_mode & S_IXOTH == 0 {
                throw SandboxError(
                    "the work root \(path) is not reachable by the sandbox's unprivileged user (uid \(uid)): \(prefix) has no search permission for others; choose another work root or run `chmod o+x \(prefix)`"
                )
            }
        }
        return path
    }
}
