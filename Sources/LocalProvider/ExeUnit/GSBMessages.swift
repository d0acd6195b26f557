import FlexBuffers
import Foundation
import GFTP
import Yagna

/// The exe-unit's messages on yagna's GSB WebSocket API, in FlexBuffers: requests
/// `{id, component, payload}` in, replies `{id, payload}` or `{id, error: {Variant: message}}` out.
/// Pure conversions; ``GSBSession`` does the I/O.
public enum GSBMessages {
    public static let components = ["Exec", "GetExecBatchResults", "GetRunningCommand", "GetActivityState"]

    public static func reply(to request: GSBRequest, error: ExeUnitError) -> FlexValue {
        request.reply(error: .map([(error.variant, error.message.map(FlexValue.string) ?? .null)]))
    }

    /// `ExeScriptCommandResult`s, fields in the Rust struct's order.
    public static func results(_ results: [ExeScriptCommandResult]) -> FlexValue {
        .vector(results.map { result in
            .map([
                ("index", .uint(UInt64(result.index))),
                ("eventDate", .string(ExeScriptCommandResult.eventDateFormat.format(result.eventDate))),
                ("result", .string(result.result.rawValue)),
                ("stdout", output(result.stdout)),
                ("stderr", output(result.stderr)),
                ("message", result.message.map(FlexValue.string) ?? .null),
                ("isBatchFinished", .bool(result.isBatchFinished)),
            ])
        })
    }

    static func output(_ output: ExeScriptCommandResult.Output?) -> FlexValue {
        switch output {
        case nil: .null
        case .text(let text): .string(text)
        case .bytes(let bytes): .vector(bytes.map { .uint(UInt64($0)) })
        }
    }

    /// The `exeScript` of an `Exec`, read through JSON with the one ExeScript model (FlexBuffers
    /// values encode as JSON; blobs as arrays of bytes).
    public static func script(_ value: FlexValue) throws(ExeScriptError) -> [ExeScriptCommand] {
        let json: Data
        do { json = try JSONEncoder().encode(value) } catch {
            throw ExeScriptError("the exe script is not JSON-shaped: \(error)")
        }
        return try ExeScriptCommand.script(from: json)
    }

    /// `ActivityState`: `{"state": [current, next], "reason": null, "errorMessage": null}`.
    public static func state(_ state: ActivityState) -> FlexValue {
        .map([("state", .vector([.string(state.rawValue), .null])), ("reason", .null), ("errorMessage", .null)])
    }

    public static func running(_ commands: [(batchId: String, command: String)]) -> FlexValue {
        .vector(commands.map { .map([("batchId", .string($0.batchId)), ("command", .string($0.command)), ("progress", .null), ("params", .null)]) })
    }
}
