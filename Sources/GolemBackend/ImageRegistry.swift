import AsyncHTTPClient
import Foundation
import GolemJobs
import NIOCore

/// Resolves an image tag (or a bare hash) to a task package through the registry's
/// `/v1/image/info` (docs/notes/yagna-requestor-api.md §8). `imageHash` + `imageUrl` never reach it.
struct ImageRegistry: Sendable {
    var baseURL: String
    var timeout: Duration

    private struct Info: Decodable {
        var sha3: String
        var http: String
    }

    /// `hash:sha3:<hash>:<url>` for the package, or a `provider_failed`-free `invalid_request`/`no_provider` error naming the cause.
    func taskPackage(for package: PackageSpec) async throws -> String {
        if let hash = package.imageHash, let url = package.imageUrl {
            return DemandBuilder.taskPackage(hash: hash, url: url)
        }
        let query: String
        if let tag = package.imageTag {
            query = "tag=" + (tag.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-._~"))) ?? tag)
        } else if let hash = package.imageHash {
            query = "hash=" + hash
        } else {
            throw JobError(.invalidRequest, "package names no image: set imageTag, or imageHash (+ imageUrl)")
        }
        let url = baseURL.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + "/v1/image/info?count=true&" + query
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await HTTPClient.shared.execute(request, timeout: TimeAmount(timeout))
            body = try await response.body.collect(upTo: 1 << 20)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw JobError(.providerFailed, "the image registry \(baseURL) is unreachable (\(error)); give imageHash + imageUrl to skip it")
        }
        guard response.status == .ok else {
            let text = String(buffer: body).prefix(300)
            let image = package.imageTag ?? package.imageHash ?? ""
            throw JobError(.invalidRequest, "the image registry does not know \(image): HTTP \(response.status.code) \(text)")
        }
        guard let info = try? JSONDecoder().decode(Info.self, from: Data(body.readableBytesView)) else {
            throw JobError(.providerFailed, "the image registry's answer has no sha3/http fields")
        }
        return DemandBuilder.taskPackage(hash: info.sha3, url: info.http)
    }
}
