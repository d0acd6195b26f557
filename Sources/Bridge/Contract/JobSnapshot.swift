import Foundation
import JSONModel

/// A job's current state, the reply to a status request (and to a duplicate submit with `reply_to`).
///
/// Schema: `docs/schemas/job-snapshot.schema.json`. An ID the bridge never accepted is `unknown`,
/// with only `jobId` and `state`.
public struct JobSnapshot: Sendable, Hashable {
    public var jobId: String
    /// `new`, `pending`, `done`, `rejected`, or `unknown`.
    public var state: String
    public var attempt: Int?
    public var createdAt: Date?
    public var updatedAt: Date?
    /// The kind of the last event (`created`, ..., `ended`); `nil` before the first.
    public var lastEvent: String?
    /// The `result` of a successful job, as in its events.
    public var result: JSONValue?
    /// The `error` of a failed or canceled job, as in its events.
    public var error: JSONValue?

    public init(
        jobId: String, state: String, attempt: Int?, createdAt: Date?, updatedAt: Date?, lastEvent: String?,
        result: JSONValue? = nil, error: JSONValue? = nil
    ) {
        self.jobId = jobId
        self.state = state
        self.attempt = attempt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.lastEvent = lastEvent
        self.result = result
        self.error = error
    }

    /// The snapshot of an ID the bridge has never accepted.
    public static func unknown(_ jobId: String) -> JobSnapshot {
        JobSnapshot(jobId: jobId, state: "unknown", attempt: nil, createdAt: nil, updatedAt: nil, lastEvent: nil)
    }

    /// The JSON object. `unknown`: `{jobId, state}`; otherwise `attempt`, `createdAt`,
    /// `updatedAt` and `lastEvent` (null before the first event) always, `result`/`error` when set.
    public var json: JSONValue {
        var members = [JSONMember("jobId", .string(jobId)), JSONMember("state", .string(state))]
        guard state != "unknown" else { return .object(members) }
        members.append(JSONMember("attempt", .int(attempt ?? 0)))
        let created = createdAt ?? updatedAt ?? Date(timeIntervalSince1970: 0)
        members.append(JSONMember("createdAt", .string(Timestamp.string(created))))
        members.append(JSONMember("updatedAt", .string(Timestamp.string(updatedAt ?? created))))
        members.append(JSONMember("lastEvent", lastEvent.map { .string($0) } ?? .null))
        if let result { members.append(JSONMember("result", result)) }
        if let error { members.append(JSONMember("error", error)) }
        return .object(members)
    }

    /// UTF-8 JSON, deterministic.
    public func encoded() -> [UInt8] { json.encoded() }

    /// Reads a snapshot as ``encoded()`` writes it (a status reply); `nil` when `body` is not one.
    /// Unknown members are ignored, so newer bridges stay readable.
    public static func decode(_ body: [UInt8]) -> JobSnapshot? {
        guard let json = try? JSONValue.parse(body, maxDepth: 256),
            let jobId = json["jobId"]?.string, let state = json["state"]?.string
        else { return nil }
        var snapshot = JobSnapshot(
            jobId: jobId, state: state, attempt: json["attempt"]?.int,
            createdAt: json["createdAt"]?.string.flatMap(Timestamp.date),
            updatedAt: json["updatedAt"]?.string.flatMap(Timestamp.date),
            lastEvent: json["lastEvent"]?.string)
        snapshot.result = json["result"]
        snapshot.error = json["error"]
        return snapshot
    }
}
