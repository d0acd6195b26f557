/// A failed yagna REST call: what was called, how it failed, and yagna's own message when it gave one.
public struct YagnaError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        /// The call did not finish within its bound.
        case timeout
        /// No connection, or it broke (yagna down or restarting).
        case unreachable
        /// 401/403: the app key is wrong or lacks the role.
        case unauthorized
        /// 404: no such resource (or yagna forgot it).
        case notFound
        /// 409/410: the resource is in a state that forbids the call (terminated, already approved, …).
        case conflict
        /// Any other non-2xx status.
        case http(Int)
        /// A 2xx body that is not what the API documents.
        case badResponse
    }

    public var code: Code
    /// `METHOD /path` of the call (never the query's secrets: yagna takes none there).
    public var call: String
    public var message: String

    public init(_ code: Code, call: String, message: String) {
        self.code = code
        self.call = call
        self.message = message
    }

    /// The HTTP status, when yagna answered.
    public var status: Int? {
        switch code {
        case .unauthorized: 401
        case .notFound: 404
        case .conflict: 409
        case .http(let status): status
        default: nil
        }
    }

    /// Whether trying again later may succeed (yagna unreachable, timed out, or a 5xx).
    public var isTransient: Bool {
        switch code {
        case .timeout, .unreachable: true
        case .http(let status): status >= 500 || status == 408 || status == 429
        default: false
        }
    }

    public var description: String { "\(call): \(codeText): \(message)" }

    private var codeText: String {
        switch code {
        case .timeout: "timed out"
        case .unreachable: "yagna unreachable"
        case .unauthorized: "unauthorized (check the app key)"
        case .notFound: "not found"
        case .conflict: "conflict"
        case .http(let status): "HTTP \(status)"
        case .badResponse: "unexpected response"
        }
    }
}
