/// The secret a cancel request must carry. Its description never shows it.
public struct DashboardToken: Sendable, CustomStringConvertible {
    private let bytes: [UInt8]

    public init(_ secret: String) { bytes = Array(secret.utf8) }

    /// Whether `candidate` is the token, in time that depends on the candidate's length only, not on
    /// where it first differs (so timing does not leak the token a byte at a time).
    public func matches(_ candidate: String) -> Bool {
        let given = Array(candidate.utf8)
        var difference: UInt8 = given.count == bytes.count ? 0 : 1
        for index in given.indices {
            difference |= given[index] ^ (bytes.isEmpty ? 0 : bytes[index % bytes.count])
        }
        return difference == 0 && !bytes.isEmpty
    }

    public var description: String { "DashboardToken(redacted)" }
}
