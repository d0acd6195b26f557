import Foundation
import JSONModel

/// The JSON the dashboard's API serves (`docs/metrics.md`, "Dashboard API"). Times are RFC 3339
/// UTC with milliseconds; durations are seconds.
enum DashboardJSON {
    static func time(_ date: Date) -> JSONValue {
        .string(date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
    }

    static func optional<T>(_ value: T?, _ wrap: (T) -> JSONValue) -> JSONValue { value.map(wrap) ?? .null }

    /// A job in a list: everything but the timeline.
    static func summary(_ job: JobEntry, now: Date) -> JSONValue {
        .object([
            JSONMember("jobId", .string(job.jobId)),
            JSONMember("phase", .string(job.phase.rawValue)),
            JSONMember("state", .string(job.state.rawValue)),
            JSONMember("attempt", .int(job.attempt)),
            JSONMember("provider", optional(job.provider) { .string($0) }),
            JSONMember("labels", .object(job.labels.sorted { $0.key < $1.key }.map { JSONMember($0.key, .string($0.value)) })),
            JSONMember("firstSeen", time(job.firstSeen)),
            JSONMember("startedAt", optional(job.startedAt, time)),
            JSONMember("endedAt", optional(job.endedAt, time)),
            JSONMember("duration", .double((job.duration(now: now) * 1000).rounded() / 1000)),
            JSONMember("error", optional(job.error) { .string($0) }),
        ])
    }

    /// A job with its timeline.
    static func detail(_ job: JobEntry, now: Date) -> JSONValue {
        guard case .object(var members) = summary(job, now: now) else { return .null }
        members.append(JSONMember("timeline", .array(job.timeline.map(step))))
        members.append(JSONMember("droppedSteps", .int(job.droppedSteps)))
        return .object(members)
    }

    static func step(_ step: JobEntry.Step) -> JSONValue {
        .object([
            JSONMember("kind", .string(step.kind.rawValue)),
            JSONMember("state", .string(step.state.rawValue)),
            JSONMember("attempt", .int(step.attempt)),
            JSONMember("time", time(step.time)),
            JSONMember("detail", optional(step.detail) { .string($0) }),
        ])
    }

    static func update(_ update: JobBoard.Update, now: Date) -> JSONValue {
        .object([JSONMember("job", summary(update.job, now: now)), JSONMember("step", step(update.step))])
    }

    static func counts(_ counts: [JobEntry.Phase: Int]) -> JSONValue {
        .object(JobEntry.Phase.allCases.map { JSONMember($0.rawValue, .int(counts[$0] ?? 0)) })
    }

    static func minute(_ bucket: MinuteBuckets.Bucket) -> JSONValue {
        .object([
            JSONMember("start", time(Date(timeIntervalSince1970: Double(bucket.minute) * 60))),
            JSONMember("succeeded", .int(bucket.succeeded)),
            JSONMember("failed", .int(bucket.failed)),
            JSONMember("canceled", .int(bucket.canceled)),
            JSONMember("jobsPerSecond", .double(Double(bucket.ended) / 60)),
            JSONMember("latencyMean", .double(bucket.latencyMean)),
            JSONMember("latencyMax", .double(bucket.latencyMax)),
        ])
    }

    static func panel(_ panel: BackendPanel) -> JSONValue {
        .object([
            JSONMember("idle", .int(panel.idle)),
            JSONMember("lent", .int(panel.lent)),
            JSONMember("creating", .int(panel.creating)),
            JSONMember("agreements", .int(panel.agreements)),
            JSONMember("budget", .double(panel.budget)),
            JSONMember("reserved", .double(panel.reserved)),
            JSONMember("spent", optional(panel.spent) { .double($0) }),
        ])
    }

    static func error(_ message: String) -> JSONValue { .object([JSONMember("error", .string(message))]) }
}
