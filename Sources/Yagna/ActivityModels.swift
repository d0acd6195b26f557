/// An activity's state pair: the current state and the one it is moving to.
public struct ActivityState: Sendable, Hashable, Decodable {
    public var state: [String?]
    public var reason: String?
    public var errorMessage: String?

    /// The current state (`New`, `Initialized`, `Deployed`, `Ready`, `Unresponsive`, `Terminated`).
    public var current: String { (state.first ?? nil) ?? "Unknown" }
}
