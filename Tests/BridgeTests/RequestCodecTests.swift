import Foundation
import Testing
import GolemJobs
@testable import Bridge

@Suite struct RequestCodecTests {
    static let contractExample = """
        {
          "jobId": "invoice-2026-11-001",
          "package": { "imageTag": "golem/alpine:latest", "minCpuCores": 1, "minMemGib": 0.5, "minStorageGib": 2 },
          "market":  { "rentHours": 0.5,
                       "pricing": { "model": "linear", "maxStartPrice": 0.5, "maxCpuPerHourPrice": 1.0, "maxEnvPerHourPrice": 0.5 } },
          "work": [
            { "uploadData":   { "to": "/golem/work/in.txt", "base64": "aGVsbG8K" } },
            { "run": "wc -c < /golem/work/in.txt > /golem/work/out.txt" },
            { "run": { "command": "/bin/echo", "args": ["Hello, Golem!"], "timeoutSeconds": 60 } },
            { "downloadData": { "from": "/golem/work/out.txt" } }
          ],
          "timeoutSeconds": 600,
          "maxAttempts": 3,
          "labels": { "customer": "acme" }
        }
        """

    func decode(_ text: String, messageId: String? = nil, limits: RequestLimits = .init()) throws(RequestRejection) -> JobRequest {
        try RequestCodec.decode(Array(text.utf8), messageId: messageId, limits: limits)
    }

    func rejection(_ text: String, messageId: String? = nil, limits: RequestLimits = .init()) -> RequestRejection? {
        rejection(bytes: Array(text.utf8), messageId: messageId, limits: limits)
    }

    func rejection(bytes: [UInt8], messageId: String? = nil, limits: RequestLimits = .init()) -> RequestRejection? {
        do {
            _ = try RequestCodec.decode(bytes, messageId: messageId, limits: limits)
            return nil
        } catch {
            return error
        }
    }

    @Test func decodesTheContractExample() throws {
        let request = try decode(Self.contractExample)
        #expect(request.jobId == "invoice-2026-11-001")
        let spec = request.spec
        #expect(spec.package == PackageSpec(imageTag: "golem/alpine:latest", minCpuCores: 1, minMemGib: 0.5, minStorageGib: 2))
        #expect(spec.market == MarketSpec(rentHours: 0.5, pricing: .linear(maxStartPrice: 0.5, maxCpuPerHourPrice: 1, maxEnvPerHourPrice: 0.5)))
        #expect(spec.work == [
            .uploadData(to: "/golem/work/in.txt", bytes: Array("hello\n".utf8)),
            .run(RunStep(.shell("wc -c < /golem/work/in.txt > /golem/work/out.txt"))),
            .run(RunStep(.exec(command: "/bin/echo", args: ["Hello, Golem!"]), timeout: .seconds(60))),
            .downloadData(from: "/golem/work/out.txt"),
        ])
        #expect(spec.timeout == .seconds(600))
        #expect(spec.maxAttempts == 3)
        #expect(spec.labels == ["customer": "acme"])
    }

    @Test func minimalRequestTakesDefaults() throws {
        let request = try decode(#"{"work":[{"run":"true"}]}"#)
        #expect(request.jobId == nil)
        #expect(request.spec.package == nil)
        #expect(request.spec.market == nil)
        #expect(request.spec.timeout == nil)
        #expect(request.spec.maxAttempts == RequestCodec.defaultMaxAttempts)
        #expect(request.spec.labels.isEmpty)
    }

    @Test func jobIdFallsBackToMessageId() throws {
        #expect(try decode(#"{"work":[{"run":"true"}]}"#, messageId: "msg-1").jobId == "msg-1")
        #expect(try decode(#"{"jobId":"body","work":[{"run":"true"}]}"#, messageId: "msg-1").jobId == "body")
        // A body job ID wins even over an unusable message_id.
        #expect(try decode(#"{"jobId":"body","work":[{"run":"true"}]}"#, messageId: "a.b").jobId == "body")
    }

    @Test func invalidJobIds() {
        for id in ["", "a.b", "has space", String(repeating: "x", count: 129), "é"] {
            let r = rejection(#"{"jobId":"\#(id)","work":[{"run":"true"}]}"#)
            #expect(r?.reason == .invalidJobId, "\(id)")
            #expect(r?.jobId == nil)
        }
        #expect(rejection(#"{"jobId":7,"work":[{"run":"true"}]}"#)?.reason == .invalidJobId)
        #expect(rejection(#"{"work":[{"run":"true"}]}"#, messageId: "job.1")?.reason == .invalidJobId)
        #expect((try? decode(#"{"jobId":"\#(String(repeating: "x", count: 128))","work":[{"run":"true"}]}"#)) != nil)
    }

    @Test func rejectionCarriesTheJobIdWhenItCanBeTold() {
        let r = rejection(#"{"jobId":"j-1","work":[{"launch":"x"}]}"#)
        #expect(r?.reason == .unknownStep)
        #expect(r?.jobId == "j-1")
        #expect(rejection("not json", messageId: "m-1")?.jobId == "m-1")
        #expect(rejection(#"{"work":[]}"#, messageId: "m-2")?.jobId == "m-2")
    }

    @Test func tooLargeIsRejectedBeforeParsing() {
        let body = [UInt8](repeating: UInt8(ascii: "["), count: 2 << 20)
        let r = rejection(bytes: body)
        #expect(r?.reason == .tooLarge)
        #expect(rejection(#"{"work":[{"run":"true"}]}"#, limits: RequestLimits(maxBytes: 10))?.reason == .tooLarge)
    }

    @Test func deepNestingIsCheapAndRejected() {
        let body = [UInt8](repeating: UInt8(ascii: "["), count: 100_000)
        #expect(rejection(bytes: body)?.reason == .tooDeep)
        let deepValue = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
        #expect(rejection(#"{"work":[{"uploadJson":{"to":"/golem/a","value":\#(deepValue)}}]}"#)?.reason == .tooDeep)
        let okValue = String(repeating: "[", count: 20) + String(repeating: "]", count: 20)
        #expect(rejection(#"{"work":[{"uploadJson":{"to":"/golem/a","value":\#(okValue)}}]}"#) == nil)
    }

    @Test func nearlyOneMebibyteUploadDecodes() throws {
        let payload = (0..<700_000).map { UInt8(truncatingIfNeeded: $0) }
        let text = #"{"work":[{"uploadData":{"to":"/golem/big.bin","base64":"\#(Data(payload).base64EncodedString())"}}]}"#
        #expect(text.utf8.count < 1 << 20)
        let clock = ContinuousClock()
        let start = clock.now
        let request = try decode(text)
        #expect(clock.now - start < .seconds(5))
        #expect(request.spec.work == [.uploadData(to: "/golem/big.bin", bytes: payload)])
    }

    @Test func notUTF8() {
        var body = Array(#"{"work":[{"run":"x"}]}"#.utf8)
        body.insert(0xFF, at: 15)
        #expect(rejection(bytes: body)?.reason == .notUTF8)
        #expect(rejection(bytes: body)?.jobId == nil)
    }

    @Test func notUTF8StillTellsTheJobIdWhenTheRestIsJSON() {
        var body = Array(#"{"jobId":"job-7","work":[{"run":"echo x"}]}"#.utf8)
        body.insert(0xFF, at: body.count - 5)
        let rejected = rejection(bytes: body, messageId: "from-the-message-id")
        #expect(rejected?.reason == .notUTF8)
        #expect(rejected?.jobId == "job-7")
        // A damaged ID is not taken: the message_id is used instead.
        var damaged = Array(#"{"jobId":"job-8","work":[]}"#.utf8)
        damaged.insert(0xC3, at: 14)
        #expect(rejection(bytes: damaged, messageId: "from-the-message-id")?.jobId == "from-the-message-id")
    }

    @Test func notJSON() {
        for text in ["", "{", "{\"work\":[]", "[1,]", "{\"a\":1,\"a\":2}", "\"\\ud800\"", "01", "{\"work\":[{\"run\":\"a\nb\"}]}", "nul"] {
            #expect(rejection(text)?.reason == .notJSON, "\(text)")
        }
    }

    @Test func schemaViolationsNameTheField() {
        let cases: [(String, String)] = [
            (#"[]"#, "JSON object"),
            (#"{"work":[]}"#, "work"),
            (#"{}"#, "work is required"),
            (#"{"work":[{"run":"x"}],"priority":1}"#, "\"priority\""),
            (#"{"work":[{"run":{"command":"x","timeoutSeconds":0}}]}"#, "work[0].run.timeoutSeconds"),
            (#"{"work":[{"run":"x"},{"run":"y"},{"run":{"command":"x","timeoutSeconds":-1}}]}"#, "work[2].run.timeoutSeconds must be a positive number"),
            (#"{"work":[{"run":{"args":["x"]}}]}"#, "work[0].run.command is required"),
            (#"{"work":[{"uploadData":{"to":"/tmp/x","base64":""}}]}"#, "under /golem/"),
            (#"{"work":[{"uploadData":{"to":"/golem/../etc/passwd","base64":""}}]}"#, "'..'"),
            (#"{"work":[{"uploadData":{"to":"/golem/x","base64":"abc"}}]}"#, "work[0].uploadData.base64"),
            (#"{"work":[{"transfer":{"from":"ftp://x/y","to":"/golem/x"}}]}"#, "work[0].transfer.from"),
            (#"{"work":[{"run":"x","uploadData":{}}]}"#, "exactly one key"),
            (#"{"work":[{"run":"x"}],"maxAttempts":11}"#, "maxAttempts"),
            (#"{"work":[{"run":"x"}],"maxAttempts":1.5}"#, "maxAttempts"),
            (#"{"work":[{"run":"x"}],"package":{"minCpuCores":2}}"#, "imageTag or imageHash"),
            (#"{"work":[{"run":"x"}],"market":{"rentHours":0}}"#, "market.rentHours"),
            (#"{"work":[{"run":"x"}],"market":{"rentHours":1e300}}"#, "market.rentHours must be from 0.0833 (5 minutes) to 24 hours"),
            (#"{"work":[{"run":"x"}],"market":{"rentHours":24.01}}"#, "market.rentHours must be from 0.0833 (5 minutes) to 24 hours"),
            (#"{"work":[{"run":"x"}],"market":{"rentHours":0.08}}"#, "market.rentHours must be from 0.0833 (5 minutes) to 24 hours"),
            (#"{"work":[{"run":"x"}],"market":{"pricing":{"model":"linear","maxStartPrice":1}}}"#, "maxCpuPerHourPrice"),
            (#"{"work":[{"run":"x"}],"market":{"pricing":{"model":"burn-rate"}}}"#, "avgGlmPerHour"),
            (#"{"work":[{"run":"x"}],"labels":{"a":1}}"#, "labels.a"),
            (#"{"work":[{"run":{"command":"x","stream":"yes"}}]}"#, "work[0].run.stream must be true or false"),
        ]
        for (text, fragment) in cases {
            let r = rejection(text)
            #expect(r?.reason == .schema, "\(text)")
            #expect(r?.message.contains(fragment) == true, "\(text): \(r?.message ?? "accepted")")
        }
    }

    @Test func runStepStreamIsOptInAndDecoded() throws {
        let request = try decode(#"{"work":[{"run":{"command":"sh","args":["-c","echo a"],"stream":true}},{"run":{"command":"x"}}]}"#)
        #expect(request.spec.work == [
            .run(RunStep(.exec(command: "sh", args: ["-c", "echo a"]), stream: true)),
            .run(RunStep(.exec(command: "x", args: []))),
        ])
    }

    @Test func unknownStepNamesTheKind() {
        let r = rejection(#"{"work":[{"run":"x"},{"deploy":{}}]}"#)
        #expect(r?.reason == .unknownStep)
        #expect(r?.message.contains("work[1]") == true)
        #expect(r?.message.contains("\"deploy\"") == true)
    }

    @Test func everyStepKind() throws {
        let request = try decode("""
            {"work":[
              {"uploadJson":{"to":"/golem/in.json","value":{"b":[1,2.50,"x"],"a":null}}},
              {"downloadJson":{"from":"/golem/out.json"}},
              {"transfer":{"from":"https://example.com/a?b=c","to":"/golem/dl/a"}},
              {"run":{"command":"/bin/sh","args":["-c","exit 3"],"env":{"A_1":"v"},"allowFailure":true}}
            ]}
            """)
        #expect(request.spec.work == [
            .uploadJson(to: "/golem/in.json", json: Array(#"{"b":[1,2.50,"x"],"a":null}"#.utf8)),
            .downloadJson(from: "/golem/out.json"),
            .transfer(from: "https://example.com/a?b=c", to: "/golem/dl/a"),
            .run(RunStep(.exec(command: "/bin/sh", args: ["-c", "exit 3"]), env: ["A_1": "v"], allowFailure: true)),
        ])
    }

    @Test func burnRatePricing() throws {
        let r = try decode(#"{"work":[{"run":"x"}],"market":{"pricing":{"model":"burn-rate","avgGlmPerHour":2}}}"#)
        #expect(r.spec.market?.pricing == .burnRate(avgGlmPerHour: 2))
    }

    @Test func marketProvidersAndSubnetTagDecodeAndEveryBadShapeNamesItsField() throws {
        let id = "0x3dd43bd7d1a25d1d9cf8ba49a75adf3cee29bdfa"
        let r = try decode(#"{"work":[{"run":"x"}],"market":{"providers":{"exclude":["\#(id)","noisy"],"prefer":["fast"]},"subnetTag":"beta.2_x-y"}}"#)
        #expect(r.spec.market?.providers == ProviderChoice(exclude: [id, "noisy"], prefer: ["fast"]))
        #expect(r.spec.market?.subnetTag == "beta.2_x-y")
        let bad: [(String, String)] = [
            (#"{"providers":{"exclude":"x"}}"#, "market.providers.exclude must be a list"),
            (#"{"providers":{"only":["a",""]}}"#, "market.providers.only[1] must not be empty"),
            (#"{"providers":{"prefer":[3]}}"#, "market.providers.prefer[0] must be a string"),
            (#"{"providers":{"avoid":[]}}"#, "market.providers has the unknown field \"avoid\""),
            (#"{"providers":{"only":["\#(id.uppercased().replacingOccurrences(of: "0X", with: "0x"))"],"exclude":["\#(id)"]}}"#, "in both only and exclude"),
            (#"{"subnetTag":"a)(b"}"#, "market.subnetTag must be 1 to 64 of"),
            (#"{"subnetTag":""}"#, "market.subnetTag must be 1 to 64 of"),
            (#"{"subnetTag":7}"#, "market.subnetTag must be a string"),
        ]
        for (market, expected) in bad {
            let message = rejection(#"{"work":[{"run":"x"}],"market":\#(market)}"#)?.message ?? "accepted"
            #expect(message.contains(expected), "\(market): \(message)")
        }
        let many = (0...RequestCodec.maxProviderEntries).map { "\"p\($0)\"" }.joined(separator: ",")
        #expect(rejection(#"{"work":[{"run":"x"}],"market":{"providers":{"exclude":[\#(many)]}}}"#)?.message.contains("more than the limit of 100") == true)
    }

    @Test func aPerJobPaymentNetworkIsRefusedWithTheReason() {
        let message = rejection(#"{"work":[{"run":"x"}],"payment":{"network":"polygon"}}"#)?.message ?? "accepted"
        #expect(message.contains("payment is not a per-job option") && message.contains("--payment-network"), "\(message)")
        // and it is not offered as a field
        #expect(rejection(#"{"work":[{"run":"x"}],"paymnt":1}"#)?.message.contains("payment") == false)
    }

    @Test func limitsOnStepsAndStrings() {
        let steps = Array(repeating: #"{"run":"x"}"#, count: 3).joined(separator: ",")
        #expect(rejection(#"{"work":[\#(steps)]}"#, limits: RequestLimits(maxSteps: 2))?.reason == .schema)
        #expect(rejection(#"{"work":[{"run":"xxxx"}]}"#, limits: RequestLimits(maxStringBytes: 3))?.reason == .schema)
    }

    @Test func base64RoundTrip() {
        for n in 0..<10 {
            let bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 97 &+ 13) }
            #expect(RequestReader.decodeBase64(Data(bytes).base64EncodedString()) == bytes)
        }
        for bad in ["a", "ab=c", "abc", "ab==ab==", "a===", "====", "=", "ab c", "ab\nc=", "YQ"] {
            #expect(RequestReader.decodeBase64(bad) == nil, "\(bad)")
        }
    }
}
