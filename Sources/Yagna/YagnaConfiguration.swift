/// Where a yagna node's REST API is and how to call it.
public struct YagnaConfiguration: Sendable, CustomStringConvertible {
    /// The REST API's base URL, e.g. `http://127.0.0.1:7465`. Plain HTTP on loopback is the normal case.
    public var apiURL: String
    /// The app key sent as `Authorization: Bearer`. Never logged: ``description`` redacts it.
    public var appKey: String
    /// The bound of one call that does not long-poll; a long poll adds its own wait to it.
    public var requestTimeout: Duration
    /// The largest response body read; a larger one fails the call.
    public var maxResponseBytes: Int

    public init(apiURL: String = "http://127.0.0.1:7465", appKey: String, requestTimeout: Duration = .seconds(30), maxResponseBytes: Int = 16 << 20) {
        self.apiURL = apiURL.hasSuffix("/") ? String(apiURL.dropLast()) : apiURL
        self.appKey = appKey
        self.requestTimeout = requestTimeout
        self.maxResponseBytes = maxResponseBytes
    }

    public var description: String { "YagnaConfiguration(apiURL: \(apiURL), appKey: <redacted>, requestTimeout: \(requestTimeout))" }
}
