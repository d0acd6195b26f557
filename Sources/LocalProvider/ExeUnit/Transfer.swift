#if canImport(Glibc)
import Glibc
#endif
import AsyncHTTPClient
import Foundation
import NIOCore
import Sandbox

/// The `transfer` command: `http(s)://…` or `container:/golem/work/…` into
/// `container:/golem/work/…`, bounded by `limit`. Files are written without following symlinks
/// (the job may have planted one to reach the host) and handed to the sandbox's uid.
struct Transfer {
    let workDirectory: String
    let sandbox: Sandbox
    let http: HTTPClient
    let limit: Int

    func copy(from: String, to: String) async throws {
        let target = try Self.containerPath(to)
        let bytes: [UInt8]
        if from.hasPrefix("http://") || from.hasPrefix("https://") {
            bytes = try await download(from)
        } else if from.hasPrefix("container:") {
            bytes = try WorkFile(root: workDirectory).read(try Self.containerPath(from), limit: limit)
        } else {
            throw TransferError("source \(from): only http(s):// and container: are supported (no GFTP in the local provider)")
        }
        try WorkFile(root: workDirectory).write(bytes, to: target, handOver: { try sandbox.handOver($0) })
    }

    private func download(_ url: String) async throws -> [UInt8] {
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        let response = try await http.execute(request, timeout: .seconds(300))
        guard (200..<300).contains(response.status.code) else { throw TransferError("GET \(url): HTTP \(response.status.code)") }
        do {
            let body = try await response.body.collect(upTo: limit)
            return Array(body.readableBytesView)
        } catch is NIOTooManyBytesError {
            throw TransferError("GET \(url): larger than the transfer limit of \(limit) bytes")
        }
    }

    /// The components below `/golem/work` of a `container:` URL (or a bare absolute path).
    static func containerPath(_ url: String) throws -> [String] {
        let path = url.hasPrefix("container:") ? String(url.dropFirst("container:".count)) : url
        let root = Sandbox.workPath
        guard path.hasPrefix(root + "/") else { throw TransferError("\(url): only paths under container:\(root)/ exist in this exe-unit") }
        let components = path.dropFirst(root.count).split(separator: "/").map(String.init).filter { $0 != "." }
        guard !components.isEmpty, !components.contains(".."), !path.contains("\0") else {
            throw TransferError("\(url): not a file path under \(root) (no '..')")
        }
        return components
    }
}

struct TransferError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Reads and writes files inside a work directory without following symlinks.
struct WorkFile {
    let root: String

    func write(_ bytes: [UInt8], to components: [String], handOver: (String) throws -> Void) throws {
        var directory = root
        for component in components.dropLast() {
            directory += "/\(component)"
            var info = stat()
            if lstat(directory, &info) == 0 {
                guard info.st_mode & S_IFMT == S_IFDIR else { throw TransferError("\(directory): not a directory") }
            } else {
                guard mkdir(directory, 0o755) == 0 else { throw posix(directory) }
                try? handOver(directory)
            }
        }
        let file = root + "/" + components.joined(separator: "/")
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw posix(file) }
        defer { close(fd) }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                throw posix(file)
            }
            written += n
        }
        try? handOver(file)
    }

    func read(_ components: [String], limit: Int) throws -> [UInt8] {
        let file = root + "/" + components.joined(separator: "/")
        // O_NOFOLLOW guards the last component; the work directory's own subfolders are the job's.
        let fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw posix(file) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { throw TransferError("\(file) is not a regular file") }
        guard Int(info.st_size) <= limit else { throw TransferError("\(file) is larger than the transfer limit of \(limit) bytes") }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 { if errno == EINTR { continue }; throw posix(file) }
            if n == 0 { break }
            done += n
        }
        return Array(bytes.prefix(done))
    }

    private func posix(_ path: String) -> TransferError {
        TransferError("\(path.replacingOccurrences(of: root, with: Sandbox.workPath)): \(String(cString: strerror(errno)))")
    }
}
