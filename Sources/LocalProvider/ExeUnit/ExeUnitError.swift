/// A refused exe-unit request, by yagna's `RpcMessageError` variant (the name is what goes on the
/// wire as the error's key).
public enum ExeUnitError: Error, Sendable, Hashable, CustomStringConvertible {
    case badRequest(String)
    case notFound(String)
    case activity(String)
    case service(String)
    case timeout

    /// The `RpcMessageError` variant name.
    public var variant: String {
        switch self {
        case .badRequest: "BadRequest"
        case .notFound: "NotFound"
        case .activity: "Activity"
        case .service: "Service"
        case .timeout: "Timeout"
        }
    }

    /// The variant's message; nil for `Timeout`, which carries none.
    public var message: String? {
        switch self {
        case .badRequest(let m), .notFound(let m), .activity(let m), .service(let m): m
        case .timeout: nil
        }
    }

    public var description: String { "\(variant)\(message.map { ": \($0)" } ?? "")" }
}
