import FlexBuffers
import Foundation
import Testing
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

    @Test func stateIsAPair() {
        #expect(GSBMessages.state(.ready)["state"] == .vector([.string("Ready"), .null]))
    }
}
