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
            bytes = try await WorkFiles(root: workDirectory).read(try Self.containerPath(from), limit: limit)
        } else {
            throw TransferError("source \(from): only http(s):// and container: are supported (no GFTP in the local provider)")
        }
        try await WorkFiles(root: workDirectory).write(bytes, to: target, handOver: { [sandbox] in try sandbox.handOver($0) })
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
