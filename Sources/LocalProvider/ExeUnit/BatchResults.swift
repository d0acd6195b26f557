import Yagna

/// The stored results of one batch and the rule for what `GetExecBatchResults` returns. Pure.
public struct BatchResults: Sendable, Hashable {
    public let commandCount: Int
    public private(set) var results: [ExeScriptCommandResult] = []
    public private(set) var isFinished = false

    public init(commandCount: Int) {
        self.commandCount = commandCount
        if commandCount == 0 { isFinished = true }
    }

    /// Stores a result. An Error result, or the last command's, finishes the batch and carries
    /// `isBatchFinished`; later commands get no result (the exe-unit stops at the first failure).
    public mutating func append(_ result: ExeScriptCommandResult) {
        guard !isFinished else { return }
        var result = result
        result.index = results.count
        if result.isError || results.count + 1 == commandCount {
            result.isBatchFinished = true
            isFinished = true
        }
        results.append(result)
    }

    /// Ends a batch that was interrupted (activity destroyed): the last stored result is marked
    /// finished, or an Error result is stored for the command that was running.
    public mutating func interrupt(message: String) {
        guard !isFinished else { return }
        append(.failed(results.count, message))
    }

    /// Whether a request waiting for `commandIndex` (nil: the last command) can be answered now.
    public func isReady(for commandIndex: Int?) -> Bool {
        isFinished || results.count > (commandIndex ?? (commandCount - 1))
    }

    /// What to return: up to and including `commandIndex`, or everything so far.
    public func answer(for commandIndex: Int?) -> [ExeScriptCommandResult] {
        guard let commandIndex else { return results }
        return Array(results.prefix(commandIndex + 1))
    }
}
