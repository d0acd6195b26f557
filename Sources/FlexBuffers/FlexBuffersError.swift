/// Why a buffer could not be decoded or a value could not be encoded.
///
/// `code` is stable and meant for matching; `message` names what is wrong and `offset`, when
/// set, is the byte position in the buffer where the decoder found it.
public struct FlexBuffersError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The buffer is shorter than a root needs (fewer than 3 bytes).
        case truncated
        /// An offset, a length or a value reaches outside the buffer.
        case outOfBounds
        /// A type byte names no FlexBuffers type, or a type where it cannot stand.
        case invalidType
        /// A byte width is not 1, 2, 4 or 8, or is not allowed for the type (8/16-bit floats).
        case invalidWidth
        /// A string or key is not valid UTF-8, or a key has no NUL terminator.
        case invalidString
        /// A map key contains a NUL byte (encoding only: keys are NUL-terminated on the wire).
        case invalidKey
        /// A map has the same key twice.
        case duplicateKey
        /// Vectors and maps are nested deeper than the configured limit.
        case depthLimitExceeded
        /// The decoded value would grow past the configured multiple of the input size.
        case sizeLimitExceeded
    }

    public let code: Code
    public let message: String
    public let offset: Int?

    public init(_ code: Code, _ message: String, offset: Int? = nil) {
        self.code = code
        self.message = message
        self.offset = offset
    }

    public var description: String {
        if let offset { return "FlexBuffersError.\(code.rawValue) at byte \(offset): \(message)" }
        return "FlexBuffersError.\(code.rawValue): \(message)"
    }
}
