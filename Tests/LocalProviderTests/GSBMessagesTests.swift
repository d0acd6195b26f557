import FlexBuffers
import Foundation
import GFTP
import Testing
import Yagna
@testable import LocalProvider

@Suite struct GSBMessagesTests {
    @Test func resultsRoundTripThroughFlexBuffersWithPlainStringStdout() throws {
        let result = ExeScriptCommandResult(index: 0, eventDate: Date(timeIntervalSince1970: 0), result: .error, stdout: .text("hello\n"), stderr: nil, message: "ExeScript command exited with code 3", isBatchFinished: true)
        let bytes = try FlexBuffersEncoder(shareKeys: false).encode(GSBMessages.ok(GSBMessages.results([result])))
        let back = try FlexBuffersDecoder().decode(bytes)
        let first = try #require(back["Ok"]?[0])
        #expect(first["stdout"] == .string("hello\n"))
        #expect(first["result"] == .string("Error") && first["isBatchFinished"] == .bool(true))
        #expect(first["stderr"] == .null && first["index"]?.intValue == 0)
        #expect(first["eventDate"]?.stringValue == "1970-01-01T00:00:00.000Z")
    }

    /// What the agent answers reaches the requestor through yagna as JSON: the one result model
    /// reads it back whole.
    @Test func resultsReadBackWithTheRequestorsModel() throws {
        let sent = [
            ExeScriptCommandResult(index: 0, eventDate: Date(timeIntervalSince1970: 1.25), result: .ok, stdout: .text("hi\n"), stderr: .text("")),
            ExeScriptCommandResult(index: 1, eventDate: Date(timeIntervalSince1970: 2), result: .error, stdout: .bytes([0, 255]), message: "ExeScript command exited with code 3", isBatchFinished: true),
        ]
        let flex = try FlexBuffersDecoder().decode(try FlexBuffersEncoder(shareKeys: false).encode(GSBMessages.results(sent)))
        let json = try JSONEncoder().encode(flex)
        #expect(try JSONDecoder().decode([ExeScriptCommandResult].self, from: json) == sent)
    }

    /// serde's `Result<_, RpcMessageError>`: a newtype variant under its name, the unit `Timeout` as a string.
    @Test func errorRepliesNameTheVariant() {
        let reply = GSBMessages.err(.notFound("batch_id = b"))
        #expect(reply["Err"]?["NotFound"] == .string("batch_id = b"))
        #expect(reply["Ok"] == nil)
        #expect(GSBMessages.err(.timeout)["Err"] == .string("Timeout"))
    }

    /// A streamed event as ya-client's `RuntimeEvent` reads it: snake_case fields, lowercase kinds and a
    /// timestamp without a zone (chrono's `NaiveDateTime` refuses a trailing `Z`).
    @Test func runtimeEventsHaveTheExeUnitsShape() throws {
        let kind = RuntimeEvents.output(stderr: false, [104, 105, 0xFF][...], binary: false)
        let event = RuntimeEvents.event(batchId: "b1", index: 2, at: Date(timeIntervalSince1970: 1.5), kind: kind)
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(try FlexBuffersDecoder().decode(FlexBuffersEncoder(shareKeys: false).encode(event)))) as? [String: Any]
        #expect(json?["batch_id"] as? String == "b1" && json?["index"] as? Int == 2)
        #expect(json?["timestamp"] as? String == "1970-01-01T00:00:01.500")
        #expect((json?["kind"] as? [String: Any])?["stdout"] as? String == "hi\u{FFFD}")
        #expect(RuntimeEvents.output(stderr: true, [0, 255][...], binary: true) == .map([("stderr", .vector([.uint(0), .uint(255)]))]))
        let finished = RuntimeEvents.finished(returnCode: 3, message: "ExeScript command exited with code 3")
        #expect(finished["finished"]?["return_code"]?.intValue == 3)
        let started = RuntimeEvents.started(ExeUnit.flex(.run(entryPoint: "/bin/echo", args: ["a"])))
        #expect(started["started"]?["command"]?["run"]?["entry_point"] == .string("/bin/echo"))
    }

    @Test func execPayloadBecomesAScript() throws {
        let script: FlexValue = .vector([.map([("run", .map([("entry_point", .string("/bin/echo")), ("args", .vector([.string("hi")]))]))])])
        #expect(try GSBMessages.script(script) == [.run(entryPoint: "/bin/echo", args: ["hi"])])
    }

    /// yagna's FlexBuffers carry counts as unsigned integers and absent options as null.
    @Test func execPayloadReadsFlexNumbersAndNulls() throws {
        let script: FlexValue = .vector([
            .map([("deploy", .map([("env", .map([("A", .string("1"))])), ("hostname", .null), ("net", .vector([]))]))]),
            .map([("run", .map([
                ("entry_point", .string("/bin/true")), ("args", .vector([])),
                ("capture", .map([("stdout", .map([("atEnd", .map([("head", .uint(3)), ("format", .null)]))])), ("stderr", .null)])),
            ]))]),
        ])
        #expect(try GSBMessages.script(script) == [
            .deploy(env: ["A": "1"]),
            .run(entryPoint: "/bin/true", capture: ExeScriptCommand.Capture(stdout: .atEnd(.head(3)))),
        ])
    }

    @Test func anExecPayloadWithAnUnknownCommandIsRefusedNamingItsIndex() {
        let script: FlexValue = .vector([.map([("start", .map([]))]), .map([("sign", .map([]))])])
        #expect(throws: ExeScriptError("command 1: sign is not supported (deploy, start, run, transfer, terminate)")) {
            try GSBMessages.script(script)
        }
    }

    @Test func stateIsAPair() {
        #expect(GSBMessages.state(.ready)["state"] == .vector([.string("Ready"), .null]))
    }
}

/// What the agent's start reads from the service bus's `/local/identity/Get` to check it is its own node's.
@Suite struct ServiceBusIdentityTests {
    @Test func theNodeIdIsReadAsTextOrAsItsTwentyBytes() throws {
        let encoder = FlexBuffersEncoder(shareKeys: false)
        let text = try encoder.encode(.map([("Ok", .map([("alias", .null), ("nodeId", .string("0xAbC0000000000000000000000000000000000001")), ("isDefault", .bool(true))]))]))
        #expect(LocalProviderService.nodeId(identityReply: text) == "0xAbC0000000000000000000000000000000000001")
        let bytes = try encoder.encode(.map([("Ok", .map([("nodeId", .blob([0xAB] + Array(repeating: 0, count: 18) + [1]))]))]))
        #expect(LocalProviderService.nodeId(identityReply: bytes) == "0xab" + String(repeating: "00", count: 18) + "01")
        #expect(LocalProviderService.nodeId(identityReply: try encoder.encode(.map([("Ok", .null)]))) == nil)
        #expect(LocalProviderService.nodeId(identityReply: [1, 2, 3]) == nil)
    }
}
