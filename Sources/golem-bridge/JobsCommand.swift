import ArgumentParser
import AsyncHTTPClient
import BridgeSettings
import Dashboard
import Foundation
import JSONModel
import NIOCore

/// `golem-bridge jobs`: the recent jobs of a running bridge, from its dashboard API (`GET /api/jobs`).
struct Jobs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List a bridge's recent jobs with their state, from its dashboard API.",
        discussion: """
            Reads GET /api/jobs of a bridge served with --http-address: the jobs it saw since it started, \
            newest first. The exit status is 0 when the list was read, 1 when the bridge cannot be reached.
            """
    )

    static let settings = JobsSettings()

    @Option(Jobs.settings.dashboardURL) var url: String?

    @Option(help: "Only jobs in these states, comma-separated: waiting, running, succeeded, failed, canceled.")
    var state: String?

    @Option(help: "Only jobs with this label, KEY=VALUE (repeat for more, all must match).")
    var label: [String] = []

    @Option(help: "At most this many jobs (1 to 5000).")
    var limit: Int = 50

    @Flag(help: "Print the API's JSON instead of a table.")
    var json = false

    /// What the API would refuse with 400 is refused here, before any request, with exit status 64.
    func validate() throws {
        if let state {
            let phases = JobEntry.Phase.allCases.map(\.rawValue)
            let unknown = state.split(separator: ",", omittingEmptySubsequences: false).filter { !phases.contains(String($0)) }
            guard unknown.isEmpty else {
                throw ValidationError("--state \(state): \(unknown.map { "\"\($0)\"" }.joined(separator: ", ")) is not a state; use \(phases.joined(separator: ", ")), comma-separated")
            }
        }
        for label in label where !label.contains("=") || label.hasPrefix("=") {
            throw ValidationError("--label \(label): must be KEY=VALUE")
        }
        guard (1...5000).contains(limit) else { throw ValidationError("--limit must be 1 to 5000, got \(limit)") }
    }

    func run() async throws {
        let setting = Self.settings.dashboardURL
        let flag = url
        let base = try await resolvingSettings { try SettingSources.load(configFlag: nil).value(setting, flag: flag) }
        var query = URLComponents()
        query.queryItems = [URLQueryItem(name: "limit", value: String(limit))]
            + (state.map { [URLQueryItem(name: "state", value: $0)] } ?? [])
            + label.map { URLQueryItem(name: "label", value: $0) }
        let address = base.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + "/api/jobs?" + (query.percentEncodedQuery ?? "")

        let body: [UInt8]
        let status: UInt
        do {
            let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: address), timeout: .seconds(10))
            status = response.status.code
            body = Array(buffer: try await response.body.collect(upTo: 64 << 20))
        } catch {
            throw CLIError("cannot reach the dashboard at \(base) (is serve running with --http-address?): \(Self.reason(error))")
        }
        guard let document = try? JSONValue.parse(body, maxDepth: 64) else {
            throw CLIError("\(address) did not answer JSON (HTTP \(status))")
        }
        guard status == 200, let jobs = document["jobs"]?.array else {
            throw CLIError("\(address): HTTP \(status): \(document["error"]?.string ?? "unexpected answer")")
        }
        if json {
            print(document.text)
            return
        }
        print(Self.table(jobs))
    }

    /// A failed request's cause in words: the system's for a socket error ("Connection refused"),
    /// whose own description repeats itself; the error's description otherwise.
    static func reason(_ error: any Error) -> String {
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)) }
        return "\(error)"
    }

    /// A text table: job, state, attempt, provider, duration, outcome.
    static func table(_ jobs: [JSONValue]) -> String {
        let header = ["JOB", "STATE", "ATTEMPT", "PROVIDER", "DURATION", "OUTCOME"]
        let rows = jobs.map { job -> [String] in
            [
                job["jobId"]?.string ?? "?", job["phase"]?.string ?? "?", job["attempt"]?.int.map(String.init) ?? "-",
                job["provider"]?.string ?? "-", job["duration"]?.number.map(duration) ?? "-",
                job["error"]?.string ?? (job["phase"]?.string == "succeeded" ? "success" : "-"),
            ]
        }
        guard !rows.isEmpty else { return "no jobs" }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        return ([header] + rows).map { row in
            row.indices.map { column in
                column == row.count - 1 ? row[column] : row[column].padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    static func duration(_ seconds: Double) -> String {
        seconds < 1 ? "\(Int((seconds * 1000).rounded())) ms" : seconds < 120 ? String(format: "%.1f s", seconds) : String(format: "%.1f min", seconds / 60)
    }
}
