import Foundation
import Testing
import GolemJobs
import JSONModel
@testable import Bridge

@Suite struct EventCodecTests {
    static let time = Date(timeIntervalSince1970: 1_796_205_603.120)  // 2026-12-02T10:00:03.120Z

    static func successEvent() -> JobEvent {
        var result = JobResult(steps: [
            StepResult(index: 1, kind: .run, exitCode: 0, stdout: "Hello, Golem!\n", stderr: ""),
            StepResult(index: 3, kind: .downloadData, data: Array("6\n".utf8)),
            StepResult(index: 4, kind: .downloadJson, data: Array(#"{"n": 1}"#.utf8)),
        ])
        result.output = "Hello, Golem!\n"
        return JobEvent(
            jobId: "invoice-2026-11-001", kind: .success, state: .done, attempt: 1, time: time,
            provider: ProviderInfo(id: "0xabc", name: "prov-1"), result: result)
    }

    @Test func encodesTheContractShape() throws {
        let envelope = EventCodec.encode(Self.successEvent(), id: "ev-4", sequence: 4, source: "host-1", labels: ["customer": "acme"])
        #expect(envelope.routingKey == "job.invoice-2026-11-001.success")
        #expect(envelope.headers == ["job-id": "invoice-2026-11-001", "job-event": "success", "job-state": "done"])
        #expect(envelope.contentType == "application/cloudevents+json")
        let text = String(decoding: envelope.body, as: UTF8.self)
        #expect(text == """
            {"specversion":"1.0","id":"ev-4","source":"golem-bridge://host-1","type":"network.golem.job.success",\
            "subject":"invoice-2026-11-001","time":"2026-12-02T10:00:03.120Z","sequence":"4","datacontenttype":"application/json",\
            "data":{"jobId":"invoice-2026-11-001","event":"success","state":"done","attempt":1,"labels":{"customer":"acme"},\
            "provider":{"id":"0xabc","name":"prov-1"},"result":{"steps":[{"index":1,"kind":"run","exitCode":0,"stdout":"Hello, Golem!\\n","stderr":""},\
            {"index":3,"kind":"downloadData","base64":"Ngo="},{"index":4,"kind":"downloadJson","value":{"n":1}}],"output":"Hello, Golem!\\n"}}}
            """)
        // Also parses with Foundation, as any consumer would.
        #expect(try JSONSerialization.jsonObject(with: Data(envelope.body)) is [String: Any])
    }

    @Test func sourceURIIsKeptAsGiven() throws {
        let e = EventCodec.encode(Self.successEvent(), id: "x", sequence: 1, source: "golem-bridge://a", labels: [:])
        #expect(try EventCodec.decode(e.body).source == "golem-bridge://a")
    }

    @Test func encodingIsDeterministic() {
        let labels = ["z": "1", "a": "2", "m": "3"]
        let a = EventCodec.encode(Self.successEvent(), id: "x", sequence: 1, source: "s", labels: labels)
        let b = EventCodec.encode(Self.successEvent(), id: "x", sequence: 1, source: "s", labels: labels)
        #expect(a == b)
    }

    @Test func escapesControlCharacters() throws {
        let step = StepResult(index: 0, kind: .run, exitCode: 1, stdout: "a\u{0}b\u{1b}[0m\"\\\t", stderr: "é😀", outputTruncated: true)
        let event = JobEvent(jobId: "j", kind: .progress, state: .pending, attempt: 1, time: Self.time, step: step)
        let body = EventCodec.encode(event, id: "x", sequence: 3, source: "s", labels: [:]).body
        #expect(!body.contains(where: { $0 < 0x20 }))
        let decoded = try EventCodec.decode(body)
        #expect(decoded.data["step"]?["stdout"]?.string == "a\u{0}b\u{1b}[0m\"\\\t")
        #expect(decoded.data["step"]?["stderr"]?.string == "é😀")
        #expect(decoded.data["step"]?["truncated"] == .bool(true))
    }

    @Test func decodeRoundTrip() throws {
        let error = JobEvent(
            jobId: "j-9", kind: .error, state: .rejected, attempt: 2, time: Self.time,
            error: JobError(.commandFailed, "work[1] exited with 3", step: 1))
        let d = try EventCodec.decode(EventCodec.encode(error, id: "id-1", sequence: 7, source: "h", labels: ["k": "v"]).body)
        #expect(d.id == "id-1")
        #expect(d.sequence == 7)
        #expect(d.jobId == "j-9")
        #expect(d.subject == "j-9")
        #expect(d.event == .error)
        #expect(d.type == "network.golem.job.error")
        #expect(d.state == "rejected")
        #expect(d.attempt == 2)
        #expect(d.labels == ["k": "v"])
        #expect(d.errorCode == "command_failed")
        #expect(d.errorMessage == "work[1] exited with 3")
        #expect(d.errorStep == 1)
        #expect(d.time == "2026-12-02T10:00:03.120Z")
        let s = try EventCodec.decode(EventCodec.encode(Self.successEvent(), id: "i", sequence: 1, source: "h", labels: [:]).body)
        #expect(s.output == "Hello, Golem!\n")
    }

    @Test func decodeRejectsNonEvents() {
        #expect(throws: EventDecodingError.self) { try EventCodec.decode(Array("{}".utf8)) }
        #expect(throws: EventDecodingError.self) { try EventCodec.decode(Array("nope".utf8)) }
    }

    @Test func invalidDownloadedJSONFallsBackToBase64() {
        let step = StepResult(index: 0, kind: .downloadJson, data: Array("{oops".utf8))
        #expect(EventCodec.stepJSON(step)["base64"] == .string(Data("{oops".utf8).base64EncodedString()))
    }

    /// Output that is not UTF-8 keeps its text member for old clients and carries its exact bytes
    /// in `…Base64`; UTF-8 output (NUL included) has no `…Base64` member.
    @Test func runOutputThatIsNotUTF8CarriesItsExactBytesInBase64() throws {
        let png: [UInt8] = [0, 0xFF, 0x50, 0x4E, 0x47]
        let result = JobResult(steps: [StepResult.run(index: 0, exitCode: 0, stdout: png, stderr: [0, 0x41])])
        let json = EventCodec.resultJSON(result)
        let step = try #require(json["steps"]?.array?.first)
        #expect(step["stdoutBase64"] == .string("AP9QTkc="))
        #expect(step["stdout"] == .string("\u{0}\u{FFFD}PNG"))
        #expect(step["stderr"] == .string("\u{0}A"))
        #expect(step["stderrBase64"] == nil)
        #expect(json["outputBase64"] == .string("AP9QTkc="))
        #expect(json["output"] == .string("\u{0}\u{FFFD}PNG"))
        let text = EventCodec.resultJSON(JobResult(steps: [StepResult.run(index: 0, exitCode: 0, stdout: Array("ok\n".utf8), stderr: [])]))
        #expect(text["outputBase64"] == nil && text["steps"]?.array?.first?["stdoutBase64"] == nil)
    }

    @Test func timestamps() throws {
        #expect(Timestamp.string(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp.string(Date(timeIntervalSince1970: 951_782_400.5)) == "2000-02-29T00:00:00.500Z")
        #expect(Timestamp.string(Date(timeIntervalSince1970: -0.001)) == "1969-12-31T23:59:59.999Z")
        // The contract's example; x.12 is stored as x.1199999…, and must not print .119.
        #expect(Timestamp.string(Date(timeIntervalSince1970: 1_795_946_403.12)) == "2026-11-29T10:00:03.120Z")
        let read = try #require(Timestamp.date("2026-11-29T10:00:03.120Z"))
        #expect(abs(read.timeIntervalSince1970 - 1_795_946_403.12) < 1e-6)
        #expect(Timestamp.date("yesterday") == nil)
    }
}
