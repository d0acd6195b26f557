/// Bounds a job request must stay within; a request outside them is rejected, never run.
public struct RequestLimits: Sendable, Hashable {
    /// The largest body, in bytes (checked before anything is parsed).
    public var maxBytes: Int
    /// The deepest nesting of arrays and objects, counting the request object as 1.
    public var maxDepth: Int
    /// The most steps in `work`.
    public var maxSteps: Int
    /// The longest string, in UTF-8 bytes, except `uploadData.base64` (bounded by `maxBytes`).
    public var maxStringBytes: Int
    /// The most entries in `labels`.
    public var maxLabels: Int

    public init(
        maxBytes: Int = 1 << 20, maxDepth: Int = 32, maxSteps: Int = 256,
        maxStringBytes: Int = 64 * 1024, maxLabels: Int = 32
    ) {
        self.maxBytes = maxBytes
        self.maxDepth = maxDepth
        self.maxSteps = maxSteps
        self.maxStringBytes = maxStringBytes
        self.maxLabels = maxLabels
    }
}
