import AsyncHTTPClient
import Foundation
import JSONModel
import Logging
import NIOCore
import NIOHTTP1

/// yagna's REST API over one shared HTTP client: JSON in and out, the app key as a Bearer token,
/// a bound on every call, and errors that name the call and yagna's message.
///
/// Typed calls for each API (market, activity, payment, GSB) live in extensions of this type.
/// Paths are relative to the API URL, e.g. `/market-api/v1/demands`.
public final class YagnaClient: Sendable {
    public let configuration: YagnaConfiguration
    private let http: HTTPClient
    let logger: Logger

    public init(configuration: YagnaConfiguration, httpClient: HTTPClient = .shared, logger: Logger) {
        self.configuration = configuration
        self.http = httpClient
        self.logger = logger
    }

    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    public static let decoder = JSONDecoder()

    /// One call. `wait` is how long yagna itself may hold it (a long poll's `timeout`), added to the
    /// configured bound. Returns the status and body of a 2xx answer; throws ``YagnaError`` otherwise.
    @discardableResult
    public func call(
        _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: [UInt8]? = nil,
        wait: Duration = .zero
    ) async throws -> (status: Int, body: [UInt8]) {
        let name = "\(method.rawValue) \(path)"
        var request = HTTPClientRequest(url: configuration.apiURL + path + Self.queryString(query))
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(configuration.appKey)")
        request.headers.add(name: "Accept", value: "application/json")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let bound = configuration.requestTimeout + wait
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            response = try await http.execute(request, timeout: TimeAmount(bound))
            bytes = try await response.body.collect(upTo: configuration.maxResponseBytes)
        } catch let error as NIOTooManyBytesError {
            throw YagnaError(.badResponse, call: name, message: "response larger than \(configuration.maxResponseBytes) bytes (\(error))")
        } catch {
            throw Self.transportError(error, call: name, bound: bound)
        }
        let status = Int(response.status.code)
        let payload = Array(bytes.readableBytesView)
        logger.trace("yagna call", metadata: ["yagna.call": "\(name)", "yagna.status": "\(status)"])
        guard (200..<300).contains(status) else { throw Self.refusal(status, call: name, body: payload) }
        return (status, payload)
    }

    /// What a failed exchange throws: a timeout past `bound`, a cancel as itself, else yagna unreachable.
    static func transportError(_ error: any Error, call name: String, bound: Duration) -> any Error {
        switch error {
        case let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout:
            return YagnaError(.timeout, call: name, message: "no answer within \(bound)")
        case is CancellationError: return CancellationError()
        default: return YagnaError(.unreachable, call: name, message: "\(error)")
        }
    }

    /// The error for a non-2xx answer, by its status, with yagna's message from the body.
    static func refusal(_ status: Int, call name: String, body: [UInt8]) -> YagnaError {
        let message = Self.errorMessage(body)
        switch status {
        case 401, 403: return YagnaError(.unauthorized, call: name, message: message)
        case 404: return YagnaError(.notFound, call: name, message: message)
        case 409, 410: return YagnaError(.conflict, call: name, message: message)
        default: return YagnaError(.http(status), call: name, message: message)
        }
    }

    /// A call whose answer is JSON of type `T`.
    public func json<T: Decodable>(
        _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: (any Encodable)? = nil,
        wait: Duration = .zero, as type: T.Type = T.self
    ) async throws -> T {
        let encoded = try body.map { Array(try Self.encoder.encode($0)) }
        let answer = try await call(method, path, query: query, body: encoded, wait: wait)
        do {
            return try Self.decoder.decode(T.self, from: Data(answer.body))
        } catch {
            throw YagnaError(.badResponse, call: "\(method.rawValue) \(path)", message: "cannot read \(T.self): \(error); body: \(Self.preview(answer.body))")
        }
    }

    /// A call whose answer carries nothing we need (204, or a body we ignore).
    public func send(
        _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: (any Encodable)? = nil,
        wait: Duration = .zero
    ) async throws {
        let encoded = try body.map { Array(try Self.encoder.encode($0)) }
        try await call(method, path, query: query, body: encoded, wait: wait)
    }

    static func queryString(_ query: [(String, String)]) -> String {
        guard !query.isEmpty else { return "" }
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+:?#/")
        return "?" + query.map { key, value in
            "\(key)=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value)"
        }.joined(separator: "&")
    }

    /// yagna's error bodies: `{"message": …}`, `{"error": …}` or plain text.
    static func errorMessage(_ body: [UInt8]) -> String {
        if let object = try? JSONValue.parse(body, maxDepth: 16) {
            for key in ["message", "error", "internalError"] {
                if let text = object[key]?.string { return text }
            }
        }
        return body.isEmpty ? "(no body)" : preview(body)
    }

    static func preview(_ body: [UInt8]) -> String {
        let text = String(decoding: body.prefix(500), as: UTF8.self)
        return body.count > 500 ? text + "…" : text
    }
}
