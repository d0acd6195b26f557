import Foundation

/// One command's result as the exe-unit stores it and `GetExecBatchResults` returns it
/// (`ExeScriptCommandResult`: index, eventDate, result Ok|Error, stdout, stderr, message,
/// isBatchFinished).
public struct CommandResult: Sendable, Hashable {
    public enum Output: Sendable, Hashable {
        /// `CommandOutput::Str`: a plain string (the form golem-js reads).
        case text(String)
        /// `CommandOutput::Bin`: bytes, for `format: "bin"`.
        case bytes([UInt8])
    }

    public var index: Int
    public var eventDate: Date
    public var ok: Bool
    public var stdout: Output?
    public var stderr: Output?
    public var message: String?
    public var isBatchFinished: Bool

    public init(index: Int, eventDate: Date = Date(), ok: Bool, stdout: Output? = nil, stderr: Output? = nil, message: String? = nil, isBatchFinished: Bool = false) {
        self.index = index
        self.eventDate = eventDate
        self.ok = ok
        self.stdout = stdout
        self.stderr = stderr
        self.message = message
        self.isBatchFinished = isBatchFinished
    }

    /// The result of a finished `run`: exit code 0 is Ok; anything else is Error with the
    /// exe-unit's message "ExeScript command exited with code N" (and the output kept either way).
    public static func run(index: Int, exitCode: Int32, stdout: [UInt8], stderr: [UInt8], capture: Capture, timedOut: Bool = false) -> CommandResult {
        func shape(_ bytes: [UInt8], _ mode: Capture.Mode?) -> Output? {
            guard let mode else { return nil }
            let kept = Capture.cut(bytes, mode.part)
            return mode.binary ? .bytes(kept) : .text(String(decoding: kept, as: UTF8.self))
        }
        let message: String? = if timedOut {
            "ExeScript command timed out and was killed"
        } else if exitCode != 0 {
            "ExeScript command exited with code \(exitCode)"
        } else {
            nil
        }
        return CommandResult(
            index: index, ok: exitCode == 0 && !timedOut, stdout: shape(stdout, capture.stdout),
            stderr: shape(stderr, capture.stderr), message: message
        )
    }

    /// The timestamp as chrono writes `DateTime<Utc>`: RFC 3339, UTC, fractional seconds.
    public var eventDateText: String { Self.format(eventDate) }

    static func format(_ date: Date) -> String {
        Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(date)
    }
}
