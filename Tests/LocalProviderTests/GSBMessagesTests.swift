import FlexBuffers
import Foundation
import Testing
import Yagna
@testable import LocalProvider

@Suite struct GSBMessagesTests {
    @Test func resultsRoundTripThroughFlexBuffersWithPlainStringStdout() throws {
        let result = CommandResult(index: 0, eventDate: Date(timeIntervalSince1970: 0), ok: false, stdout: .text("hello\n"), stderr: nil, message: "ExeScript command exited with code 3", isBatchFinished: true)
        let bytes = try FlexBuffersEncoder(shareKeys: false).encode(GSBMessages.reply(id: "r1", payload: GSBMessages.results([result])))
        let back = try FlexBuffersDecoder().decode(bytes)
        #expect(back["id"]?.stringValue == "r1")
        let first = try #require(back["payload"]?[0])
        #expect(first["stdout"] == .string("hello\n"))
        #expect(first["result"] == .string("Error") && first["isBatchFinished"] == .bool(true))
        #expect(first["stderr"] == .null && first["index"]?.intValue == 0)
        #expect(first["eventDate"]?.stringValue == "1970-01-01T00:00:00.000Z")
    }

    @Test func errorRepliesNameTheVariant() {
        let reply = GSBMessages.reply(id: "x", error: .notFound("batch_id = b"))
        #expect(reply["error"]?["NotFound"] == .string("batch_id = b"))
        #expect(reply["payload"] == nil)
    }

    @Test func execPayloadBecomesAScript() throws {
        let script: FlexValue = .vector([.map([("run", .map([("entry_point", .string("/bin/echo")), ("args", .vector([.string("hi")]))]))])])
        #expect(try ExeScriptCommand.parseScript(GSBMessages.json(script)) == [.run(entryPoint: "/bin/echo", args: ["hi"], capture: .default)])
    }

    @Test func flexNumbersBecomeJSONIntegersOrFloats() throws {
        #expect(GSBMessages.json(.int(-3)) == .int(-3))
        #expect(GSBMessages.json(.uint(5)) == .int(5))
        #expect(GSBMessages.json(.uint(.max)) == .double(Double(UInt64.max)), "beyond Int64: still a number")
        #expect(GSBMessages.json(.double(2.5)) == .double(2.5))
        #expect(GSBMessages.json(.blob([1, 255])) == .array([.int(1), .int(255)]))
        let capture: FlexValue = .vector([.map([("run", .map([
            ("entry_point", .string("/bin/true")),
            ("capture", .map([("stdout", .map([("atEnd", .map([("head", .uint(3))]))]))])),
        ]))])])
        #expect(try ExeScriptCommand.parseScript(GSBMessages.json(capture))
            == [.run(entryPoint: "/bin/true", args: [], capture: Capture(stdout: .init(part: .head(3)), stderr: nil))])
    }

    @Test func stateIsAPair() {
        #expect(GSBMessages.state(.ready)["state"] == .vector([.string("Ready"), .null]))
    }
}
