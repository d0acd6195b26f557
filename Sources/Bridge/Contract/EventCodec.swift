import Foundation
import GolemJobs
import JSONModel

/// Encodes job events as CloudEvents 1.0 structured JSON (contract v1, `golem.events`), and
/// decodes them back for the CLI's `watch` and for tests.
///
/// The output is deterministic: members in the contract's order, optional members left out when
/// absent. Schema: `docs/schemas/cloudevent.schema.json` and `event-data.schema.json`.
public enum EventCodec {
    public static let contentType = "application/cloudevents+json"
    /// The CloudEvent `type` prefix; the event kind follows it.
    public static let typePrefix = "network.golem.job."
    /// A downloaded JSON file nested deeper than this is sent as `base64` instead of `value`.
    static let maxDownloadedJSONDepth = 128

    /// The routing key of an event: `job.<jobId>.<event>`.
    public static func routingKey(jobId: String, kind: JobEvent.Kind) -> String {
        "job.\(jobId).\(kind.rawValue)"
    }

    /// The CloudEvent `source` for a bridge instance: `golem-bridge://<instance>`.
    public static func source(instance: String) -> String { "golem-bridge://\(instance)" }

    /// Encodes `event`. `source` is either a full URI (`golem-bridge://host-1`) or a bare
    /// instance name, which gets the `golem-bridge://` scheme. `sequence` is the event's position
    /// in its job (1, 2, ...), written as a string as CloudEvents extension attributes are.
    public static func encode(
        _ event: JobEvent, id: String, sequence: Int, source: String, labels: [String: String]
    ) -> EventEnvelope {
        let sourceURI = source.contains("://") ? source : Self.source(instance: source)
        let envelope = JSONValue.object([
            JSONMember("specversion", .string("1.0")),
            JSONMember("id", .string(id)),
            JSONMember("source", .string(sourceURI)),
            JSONMember("type", .string(typePrefix + event.kind.rawValue)),
            JSONMember("subject", .string(event.jobId)),
            JSONMember("time", .string(Timestamp.string(event.time))),
            JSONMember("sequence", .string(String(sequence))),
            JSONMember("datacontenttype", .string("application/json")),
            JSONMember("data", data(event, labels: labels)),
        ])
        return EventEnvelope(
            id: id,
            routingKey: routingKey(jobId: event.jobId, kind: event.kind),
            body: envelope.encoded(),
            headers: ["job-id": event.jobId, "job-event": event.kind.rawValue, "job-state": event.state.rawValue]
        )
    }

    /// The CloudEvent `data` member of `event`.
    static func data(_ event: JobEvent, labels: [String: String]) -> JSONValue {
        var members = [
            JSONMember("jobId", .string(event.jobId)),
            JSONMember("event", .string(event.kind.rawValue)),
            JSONMember("state", .string(event.state.rawValue)),
            JSONMember("attempt", .int(event.attempt)),
            JSONMember("labels", labelsJSON(labels)),
        ]
        if let provider = event.provider {
            members.append(JSONMember("provider", .object([
                JSONMember("id", .string(provider.id)), JSONMember("name", .string(provider.name)),
            ])))
        }
        if let result = event.result { members.append(JSONMember("result", resultJSON(result))) }
        if let error = event.error { members.append(JSONMember("error", errorJSON(error))) }
        if let step = event.step { members.append(JSONMember("step", stepJSON(step))) }
        if let output = event.output { members.append(JSONMember("output", outputJSON(output))) }
        return .object(members)
    }

    static func labelsJSON(_ labels: [String: String]) -> JSONValue {
        .object(labels.sorted(by: { $0.key < $1.key }).map { JSONMember($0.key, .string($0.value)) })
    }

    /// `{steps, output?, outputBase64?}`.
    public static func resultJSON(_ result: JobResult) -> JSONValue {
        var members = [JSONMember("steps", .array(result.steps.map(stepJSON)))]
        if let output = result.output { members.append(JSONMember("output", .string(output))) }
        if let bytes = result.outputBytes { members.append(JSONMember("outputBase64", .string(Data(bytes).base64EncodedString()))) }
        return .object(members)
    }

    /// `{code, message, step?}`.
    public static func errorJSON(_ error: JobError) -> JSONValue {
        var members = [
            JSONMember("code", .string(error.code.rawValue)), JSONMember("message", .string(error.message)),
        ]
        if let step = error.step { members.append(JSONMember("step", .int(step))) }
        return .object(members)
    }

    /// `{step, stream, text, truncated?}`: a piece of a streaming step's output.
    public static func outputJSON(_ output: StepOutput) -> JSONValue {
        var members = [
            JSONMember("step", .int(output.step)), JSONMember("stream", .string(output.stream.rawValue)),
            JSONMember("text", .string(output.text)),
        ]
        if output.truncated { members.append(JSONMember("truncated", .bool(true))) }
        return .object(members)
    }

    /// `{index, kind, exitCode?, stdout?, stderr?, stdoutBase64?, stderrBase64?, truncated?, base64? | value?}`. A `downloadJson`
    /// file that is not valid JSON is sent as `base64`, so its bytes are never lost.
    public static func stepJSON(_ step: StepResult) -> JSONValue {
        var members = [JSONMember("index", .int(step.index)), JSONMember("kind", .string(step.kind.rawValue))]
        if let exitCode = step.exitCode { members.append(JSONMember("exitCode", .int(Int(exitCode)))) }
        if let stdout = step.stdout { members.append(JSONMember("stdout", .string(stdout))) }
        if let stderr = step.stderr { members.append(JSONMember("stderr", .string(stderr))) }
        // Only for output that is not UTF-8: then stdout/stderr hold it with U+FFFD for what is not.
        if let bytes = step.stdoutBytes { members.append(JSONMember("stdoutBase64", .string(Data(bytes).base64EncodedString()))) }
        if let bytes = step.stderrBytes { members.append(JSONMember("stderrBase64", .string(Data(bytes).base64EncodedString()))) }
        if step.outputTruncated { members.append(JSONMember("truncated", .bool(true))) }
        if let data = step.data {
            if step.kind == .downloadJson, let value = try? JSONValue.parse(data, maxDepth: maxDownloadedJSONDepth) {
                members.append(JSONMember("value", value))
            } else {
                members.append(JSONMember("base64", .string(Data(data).base64EncodedString())))
            }
        }
        return .object(members)
    }
}
