import FlexBuffers
import Foundation
import GFTP
import Yagna

/// The exe-unit's messages on the service bus, in FlexBuffers as serde lays them out: requests are
/// the message structs, replies serde's `Result`, `{"Ok": value}` or `{"Err": {Variant: message}}`.
/// Pure conversions; ``GSBSession`` does the I/O.
public enum GSBMessages {
    public static func ok(_ value: FlexValue) -> FlexValue { .map([("Ok", value)]) }

    /// `Err(RpcMessageError)`: a newtype variant is `{Variant: message}`, the unit `Timeout` its name.
    public static func err(_ error: ExeUnitError) -> FlexValue {
        .map([("Err", error.message.map { .map([(error.variant, .string($0))]) } ?? .string(error.variant))])
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

/// The `RuntimeEvent`s a streamed batch sends (ya-client `activity/runtime_event.rs`: snake_case
/// fields, lowercase kinds, a `NaiveDateTime` in UTC without a zone). Pure.
public enum RuntimeEvents {
    public static func event(batchId: String, index: Int, at date: Date, kind: FlexValue) -> FlexValue {
        .map([("batch_id", .string(batchId)), ("index", .uint(UInt64(index))), ("timestamp", .string(timestamp(date))), ("kind", kind)])
    }

    /// `{"started": {"command": …}}`: the command as the requestor sent it.
    public static func started(_ command: FlexValue) -> FlexValue {
        .map([("started", .map([("command", command)]))])
    }

    public static func finished(returnCode: Int32, message: String?) -> FlexValue {
        .map([("finished", .map([("return_code", .int(Int64(returnCode))), ("message", message.map(FlexValue.string) ?? .null)]))])
    }

    /// `{"stdout": …}` or `{"stderr": …}`: text (invalid UTF-8 replaced, as the exe-unit's `str`
    /// does) or bytes.
    public static func output(stderr: Bool, _ bytes: ArraySlice<UInt8>, binary: Bool) -> FlexValue {
        let value: FlexValue = binary ? .vector(bytes.map { .uint(UInt64($0)) }) : .string(String(decoding: bytes, as: UTF8.self))
        return .map([(stderr ? "stderr" : "stdout", value)])
    }

    /// chrono's `NaiveDateTime` as serde writes it: `2026-12-03T19:21:20.123`.
    public static func timestamp(_ date: Date) -> String {
        var text = ExeScriptCommandResult.eventDateFormat.format(date)
        if text.hasSuffix("Z") { text.removeLast() }
        return text
    }
}
