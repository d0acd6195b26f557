import BlockingWork
#if canImport(Glibc)
import Glibc
#endif

/// Reads and writes files inside a work directory from the host side, never through a symlink.
///
/// The job owns everything below the work directory and may plant symlinks there to reach the host;
/// every path component is opened with `openat(…, O_NOFOLLOW)` from the one before, so neither a
/// symlink nor a swap during the walk leads outside. Paths are given as components below the root
/// (already checked to contain no `..`). The file work runs on ``BlockingIO``, off the cooperative pool.
public struct WorkFiles: Sendable {
    public let root: String

    public init(root: String) {
        self.root = root
    }

    /// Writes `bytes` to the file, creating missing directories (each handed to `handOver` by path).
    public func write(
        _ bytes: [UInt8], to components: [String], handOver: @escaping @Sendable (String) throws -> Void = { _ in }
    ) async throws(WorkFileError) {
        try await BlockingIO.run { () throws(WorkFileError) in try writeNow(bytes, to: components, handOver: handOver) }
    }

    /// Reads a regular file of at most `limit` bytes.
    public func read(_ components: [String], limit: Int) async throws(WorkFileError) -> [UInt8] {
        try await BlockingIO.run { () throws(WorkFileError) in try readNow(components, limit: limit) }
    }

    private func writeNow(_ bytes: [UInt8], to components: [String], handOver: (String) throws -> Void) throws(WorkFileError) {
        let directory = try openParent(of: components, create: true, handOver: handOver)
        defer { close(directory) }
        let name = components.last ?? ""
        let fd = openat(directory, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure(components, errno) }
        defer { close(fd) }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                throw failure(components, errno)
            }
            written += n
        }
        try? handOver(path(components))
    }

    private func readNow(_ components: [String], limit: Int) throws(WorkFileError) -> [UInt8] {
        let directory = try openParent(of: components, create: false, handOver: { _ in })
        defer { close(directory) }
        let fd = openat(directory, components.last ?? "", O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw failure(components, errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw WorkFileError(.notARegularFile, path: display(components))
        }
        guard Int(info.st_size) <= limit else { throw WorkFileError(.tooLarge(limit: limit), path: display(components)) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: min(64 * 1024, max(1, Int(info.st_size))))
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw failure(components, errno)
            }
            if n == 0 { return bytes }
            bytes.append(contentsOf: buffer[0..<n])
            // The file may grow while it is read.
            guard bytes.count <= limit else { throw WorkFileError(.tooLarge(limit: limit), path: display(components)) }
        }
    }

    /// The directory that holds the last component, opened by a walk that follows no symlink.
    private func openParent(of components: [String], create: Bool, handOver: (String) throws -> Void) throws(WorkFileError) -> Int32 {
        guard !components.isEmpty else { throw WorkFileError(.notARegularFile, path: "/") }
        var fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw failure([], errno) }
        for (depth, component) in components.dropLast().enumerated() {
            var next = openat(fd, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if next < 0, errno == ENOENT, create {
                if mkdirat(fd, component, 0o755) != 0, errno != EEXIST {
                    let error = errno
                    close(fd)
                    throw failure(Array(components.prefix(depth + 1)), error)
                }
                try? handOver(path(Array(components.prefix(depth + 1))))
                next = openat(fd, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            let error = errno
            close(fd)
            guard next >= 0 else {
                let prefix = Array(components.prefix(depth + 1))
                // A symlink (ELOOP with O_NOFOLLOW) or a file where a directory should be.
                if error == ENOTDIR || error == ELOOP { throw WorkFileError(.notADirectory, path: display(prefix)) }
                throw failure(prefix, error)
            }
            fd = next
        }
        return fd
    }

    private func path(_ components: [String]) -> String { ([root] + components).joined(separator: "/") }

    private func display(_ components: [String]) -> String { ([Sandbox.workPath] + components).joined(separator: "/") }

    private func failure(_ components: [String], _ code: Int32) -> WorkFileError {
        if code == ELOOP { return WorkFileError(.notARegularFile, path: display(components)) }
        return WorkFileError(.system(code), path: display(components))
    }
}

/// Why a work-directory file could not be read or written; `path` is as the job sees it
/// (under `/golem/work`).
public struct WorkFileError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// A path component is a symlink or a file, not a directory.
        case notADirectory
        /// The file is a symlink, a directory or a device, not a regular file.
        case notARegularFile
        case tooLarge(limit: Int)
        case system(Int32)
    }

    public var kind: Kind
    public var path: String

    public init(_ kind: Kind, path: String) {
        self.kind = kind
        self.path = path
    }

    public var description: String {
        switch kind {
        case .notADirectory: "\(path): a path component is not a directory"
        case .notARegularFile: "\(path) is not a regular file"
        case .tooLarge(let limit): "\(path) is larger than the limit of \(limit) bytes"
        case .system(let code): "\(path): \(String(cString: strerror(code)))"
        }
    }
}
