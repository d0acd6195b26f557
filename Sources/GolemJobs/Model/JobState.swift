/// A job's state, as golem-js names it. A canceled job ends `rejected`, as in golem-js.
public enum JobState: String, Sendable, Hashable, CaseIterable {
    /// Created, waiting to start or looking for a provider.
    case new
    /// Started on a provider.
    case pending
    /// Finished with a result.
    case done
    /// Finished with an error, or canceled.
    case rejected

    public var isFinal: Bool { self == .done || self == .rejected }
}
