/// Where a setting's value came from, for error messages.
public enum SettingSource: Sendable, Equatable, CustomStringConvertible {
    case flag(String)
    case environment(String)
    case file(path: String)
    case `default`

    /// ` (from GOLEM_BRIDGE_X)`, ` (from the config file /etc/b.json)`; empty for a flag, which the
    /// message names already, and for the default.
    public var description: String {
        switch self {
        case .flag, .default: ""
        case .environment(let name): " (from \(name))"
        case .file(let path): " (from the config file \(path))"
        }
    }
}
