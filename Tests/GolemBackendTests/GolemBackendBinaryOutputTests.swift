import Foundation
import GolemJobs
import GolemLocalTestSupport
import JSONModel
import Testing
import Yagna
@testable import GolemBackend

/// Binary-safe capture on Golem: real yagna 0.17.6 of scripts/golem-local between the backend and
/// our provider agent (`golem-bridge provider`). A `run`'s output that is not UTF-8 reaches the
/// step result byte for byte; the REST answer for a `bin` capture is a JSON array of bytes, where a
/// `str` capture has already lost them.
@Suite(.serialized, .enabled(if: GolemLocal.providerCount > 0 && ProviderAgent.binary != nil))
struct GolemBackendBinaryOutputTests {
    let net: GolemLocal
    let subnet = "bin-\(UUID().uuidString.prefix(8).lowercased())"
    let directory: String
    static let png: [UInt8] = [0, 0xFF, 0x50, 0x4E, 0x47]

    init() throws {
        net = try GolemLocal.load()
        directory = NSTemporaryDirectory() + "golem-bin-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    var requestor: YagnaClient { YagnaClient(configuration: net.requestor, logger: testLogger) }

    /// A rental from our agent on this test's subnet for `spec`; everything is stopped after `body`.
    func withRental(_ spec: JobSpec, _ body: (GolemRental) async throws -> Void) async throws {
        try await AgentRental.with(net: net, subnet: subnet, directory: directory, spec: spec, jobId: "bin-job", body)
    }

    @Test func aRunsOutputThatIsNotUTF8ArrivesByteForByte() async throws {
        let step = WorkStep.run(RunStep(.shell(#"printf '\000\377PNG'; printf 'ok\377' >&2"#)))
        let utf8 = WorkStep.run(RunStep(.shell(#"printf 'caf\303\251\000'"#)))
        try await withRental(JobSpec(work: [step, utf8])) { rental in
            let result = try await rental.run(step, index: 0, logger: testLogger)
            #expect(result.exitCode == 0)
            #expect(result.stdoutBytes == Self.png)
            #expect(result.stdout == "\u{0}\u{FFFD}PNG")
            #expect(result.stderrBytes == Array("ok".utf8) + [0xFF])
            let text = try await rental.run(utf8, index: 1, logger: testLogger)
            #expect(text.stdout == "café\u{0}")
            #expect(text.stdoutBytes == nil, "UTF-8 output is exact text")
        }
    }

    /// What yagna's `GET exec/{batch}` answers, read raw: `bin` keeps the bytes (a JSON array of
    /// numbers), `str` has replaced 0xFF by U+FFFD before the bridge sees it.
    @Test func yagnaReturnsABinCaptureAsAnArrayOfBytesAndAStrCaptureLossy() async throws {
        try await withRental(JobSpec(work: [.run(RunStep(.shell("true")))])) { rental in
            let line = #"printf '\000\377PNG'"#
            let script: [ExeScriptCommand] = [
                .run(entryPoint: "/bin/sh", args: ["-c", line], capture: .init(stdout: .atEnd(format: .bin))),
                .run(entryPoint: "/bin/sh", args: ["-c", line], capture: .init(stdout: .atEnd(format: .str))),
            ]
            let activity = rental.lease.activityId
            let batch = try await requestor.exec(activity, script: script)
            var answer: [JSONValue] = []
            while answer.count < 2 {
                do {
                    let (_, body) = try await requestor.call(
                        .GET, "/activity-api/v1/activity/\(activity)/exec/\(batch)", query: [("timeout", "5")], wait: .seconds(5))
                    answer = try JSONValue.parse(body, maxDepth: 16).array ?? []
                } catch let error as YagnaError where error.code == .http(408) {
                    continue  // nothing new within the wait
                }
            }
            #expect(answer[0]["stdout"] == .array(Self.png.map { .number(String($0)) }))
            #expect(answer[1]["stdout"] == .string("\u{0}\u{FFFD}PNG"))
        }
    }
}
