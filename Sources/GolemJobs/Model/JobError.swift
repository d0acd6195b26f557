/// Why a job did not succeed. `code` is stable and maps one to one to the contract's `error.code`.
public struct JobError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable, CaseIterable {
        case invalidRequest = "invalid_request"
        case commandFailed = "command_failed"
        case timeout
        case noProvider = "no_provider"
        case providerFailed = "provider_failed"
        case canceled
        case budgetExceeded = "budget_exceeded"
        case interrupted
        case `internal`

        /// Whether another attempt may succeed: only failures of the provider or the bridge, never
        /// the job's own command, its deadline, a cancel or bad input.
        public var isRetryable: Bool {
            switch self {
            case .providerFailed, .interrupted, .internal: true
            default: false
            }
        }
    }

    public var code: Code
    /// A sentence that names the cause (the field, the step, the exit code).
    public var message: String
    /// The 0-based index of the step that failed, where one did.
    public var step: Int?

    public init(_ code: Code, _ message: String, step: Int? = nil) {
        self.code = code
        self.message = message
        self.step = step
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
