import Yagna

/// yagna's activity states, in the order an exe-unit moves through them.
public enum ActivityState: String, Sendable, Hashable, Comparable {
    case initialized = "Initialized"
    case deployed = "Deployed"
    case ready = "Ready"
    case terminated = "Terminated"

    private var rank: Int {
        switch self {
        case .initialized: 0
        case .deployed: 1
        case .ready: 2
        case .terminated: 3
        }
    }

    public static func < (lhs: ActivityState, rhs: ActivityState) -> Bool { lhs.rank < rhs.rank }

    /// The state a command needs before it may run, or nil when it may always run.
    public static func required(for command: ExeScriptCommand) -> ActivityState? {
        switch command {
        case .deploy: .initialized
        case .start: .deployed
        case .run, .transfer: .ready
        case .terminate: nil
        }
    }
}
