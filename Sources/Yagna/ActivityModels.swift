/// One command's result of an ExeScript batch, as `GET /activity/{id}/exec/{batch}` returns it.
public struct ExeScriptCommandResult: Sendable, Hashable, Decodable {
    public var index: Int
    public var result: String
    public var stdout: String?
    public var stderr: String?
    public var message: String?
    public var isBatchFinished: Bool?

    public init(index: Int, result: String, stdout: String? = nil, stderr: String? = nil, message: String? = nil, isBatchFinished: Bool? = nil) {
        self.index = index
        self.result = result
        self.stdout = stdout
        self.stderr = stderr
        self.message = message
        self.isBatchFinished = isBatchFinished
    }

    public var isError: Bool { result == "Error" }
}

/// An activity's state pair: the current state and the one it is moving to.
public struct ActivityState: Sendable, Hashable, Decodable {
    public var state: [String?]
    public var reason: String?
    public var errorMessage: String?

    /// The current state (`New`, `Initialized`, `Deployed`, `Ready`, `Unresponsive`, `Terminated`).
    public var current: String { (state.first ?? nil) ?? "Unknown" }
}
