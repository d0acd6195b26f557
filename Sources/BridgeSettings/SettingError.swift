/// A setting that cannot be used as given: the message names the setting, the value (unless secret)
/// and where it came from, e.g. `--concurrency must be a whole number from 1 to 10000, got "0" (from
/// GOLEM_BRIDGE_CONCURRENCY)`.
public struct SettingError: Error, CustomStringConvertible, Equatable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
