import AsyncHTTPClient
import Foundation
import GolemJobs
import Testing
import Yagna
@testable import GolemBackend

/// A streamed batch from our provider agent through real yagna: yagna relays `GET exec/{batch}` with
/// `Accept: text/event-stream` to the exe-unit's `StreamExecBatchResults` over the service bus, and the
/// agent answers with a partial reply per `RuntimeEvent`, as the exe-unit does.
extension GolemBackendBinaryOutputTests {
    @Test func theAgentStreamsARunsOutputThroughYagnaWhileTheCommandRuns() async throws {
        try await withRental(JobSpec(work: [.run(RunStep(.shell("true")))])) { rental in
            // The first second lets the stream subscribe: events from before it are lost, as with the exe-unit.
            let line = "sleep 1; echo a; echo e >&2; sleep 2; echo b"
            let script: [ExeScriptCommand] = [
                .run(entryPoint: "/bin/sh", args: ["-c", line], capture: .init(stdout: .stream(format: .str), stderr: .stream(format: .str))),
            ]
            let activity = rental.lease.activityId
            let batch = try await requestor.exec(activity, script: script)
            var request = HTTPClientRequest(url: "\(net.requestor.apiURL)/activity-api/v1/activity/\(activity)/exec/\(batch)")
            request.headers.add(name: "Accept", value: "text/event-stream")
            request.headers.add(name: "Authorization", value: "Bearer \(net.requestor.appKey)")
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            #expect(response.status == .ok)
            var text = ""
            var whenAArrived: String?
            for try await chunk in response.body {
                text += String(decoding: chunk.readableBytesView, as: UTF8.self)
                if whenAArrived == nil, text.contains(#""stdout":"a\n""#) { whenAArrived = text }
                // yagna keeps the response open with pings after the stream ends: stop at the command's end.
                if text.contains(#""finished""#) { break }
            }
            let early = try #require(whenAArrived, "no stdout event with a: \(text)")
            #expect(!early.contains(#""stdout":"b\n""#) && !early.contains(#""finished""#), "a arrived only with the end: \(early)")
            #expect(text.contains(#""stderr":"e\n""#))
            #expect(text.contains(#""finished":{"return_code":0"#) || text.contains(#""return_code":0"#))
            #expect(text.contains("event: runtime") && text.contains(#""batch_id":"\#(batch)""#))
            // The result keeps the whole output, as for an `atEnd` capture.
            let results = try #require(try await requestor.batchResults(activity, batchId: batch, timeout: .seconds(5)))
            #expect(results.first?.stdout?.string == "a\nb\n")
        }
    }
}
