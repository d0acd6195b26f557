#if canImport(Glibc)
import Glibc
#endif
import AsyncHTTPClient
import Foundation
import GFTP
import Logging
import NIOCore
import Sandbox

/// The `transfer` command: `http(s)://…`, `gftp://…` or `container:/golem/work/…` into
/// `container:/golem/work/…`, or `container:/golem/work/…` into `gftp://…`, bounded by `limit`.
/// GFTP goes over the provider node's service bus (`gsbURL`) as yagna's exe-unit does it
/// (``GFTPCaller``). Files are written without following symlinks (the job may have planted one to
/// reach the host) and handed to the sandbox's uid.
struct Transfer {
    let workDirectory: String
    let sandbox: Sandbox
    let http: HTTPClient
    let limit: Int
    let gsbURL: String
    let faults: Set<InjectedFault>
    let logger: Logger

    func copy(from: String, to: String) async throws {
        let bytes: [UInt8]
        if from.hasPrefix("http://") || from.hasPrefix("https://") {
            bytes = try await download(from)
        } else if from.hasPrefix("gftp://") {
            let url = try Self.gftpURL(from)
            bytes = try await GSBBus.withConnection(to: gsbURL, logger: logger) { [limit] bus in
                try await GFTPCaller(bus: bus).download(url, limit: limit)
            }
        } else if from.hasPrefix("container:") {
            bytes = try await WorkFiles(root: workDirectory).read(try Self.containerPath(from), limit: limit)
        } else {
            throw TransferError("source \(from): only http(s)://, gftp:// and container: are supported")
        }
        if to.hasPrefix("gftp://") {
            let url = try Self.gftpURL(to)
            try await GSBBus.withConnection(to: gsbURL, logger: logger) { [faults] bus in
                try await GFTPCaller(bus: bus).upload(bytes, to: url, withholdingLastChunk: faults.contains(.gftpDropLastChunk))
            }
            return
        }
        let target = try Self.containerPath(to)
        try await WorkFiles(root: workDirectory).write(bytes, to: target, handOver: { [sandbox] in try sandbox.handOver($0) })
    }

    static func gftpURL(_ text: String) throws -> GFTPURL {
        guard let url = GFTPURL(text) else { throw TransferError("\(text): not a gftp://<node id>/<file id> URL") }
        return url
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
