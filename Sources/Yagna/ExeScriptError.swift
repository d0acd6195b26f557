/// A script refused as a whole: not a list, or an unknown or malformed command, named by its index
/// and the field (`command 1 (run): entry_point is missing`).
public struct ExeScriptError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }

    /// Names the command and field a decoding error points at.
    init(_ error: DecodingError) {
        let (path, detail): ([any CodingKey], String) = switch error {
        case .keyNotFound(let key, let context): (context.codingPath, "\(key.stringValue) is missing")
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            (context.codingPath, context.debugDescription)
        @unknown default: ([], "\(error)")
        }
        guard let index = path.first?.intValue else {
            self.init("the exe script is not a list of commands: \(detail)")
            return
        }
        let field = path.dropFirst().map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        self.init("command \(index)\(field.isEmpty ? "" : " (\(field))"): \(detail)")
    }
}
