import Foundation
import Yagna

/// The results this exe-unit stores for its commands.
extension ExeScriptCommandResult {
    static func ok(_ index: Int, stdout: Output? = nil) -> ExeScriptCommandResult {
        ExeScriptCommandResult(index: index, result: .ok, stdout: stdout)
    }

    static func failed(_ index: Int, _ message: String) -> ExeScriptCommandResult {
        ExeScriptCommandResult(index: index, result: .error, message: message)
    }

    /// The result of a finished `run`: exit code 0 is Ok; anything else is Error with the
    /// exe-unit's message "ExeScript command exited with code N" (and the output kept either way).
    static func run(
        index: Int, exitCode: Int32, stdout: [UInt8], stderr: [UInt8], capture: ExeScriptCommand.Capture, timedOut: Bool = false
    ) -> ExeScriptCommandResult {
        func shape(_ bytes: [UInt8], _ mode: ExeScriptCommand.Capture.Mode?) -> Output? {
            guard let mode else { return nil }
            let kept = mode.part.cut(bytes)
            return mode.isBinary ? .bytes(kept) : .text(String(decoding: kept, as: UTF8.self))
        }
        let message: String? = if timedOut {
            "ExeScript command timed out and was killed"
        } else if exitCode != 0 {
            "ExeScript command exited with code \(exitCode)"
        } else {
            nil
        }
        return ExeScriptCommandResult(
            index: index, result: exitCode == 0 && !timedOut ? .ok : .error, stdout: shape(stdout, capture.stdout),
            stderr: shape(stderr, capture.stderr), message: message
        )
    }
}
