import Testing
import Yagna
@testable import LocalProvider

@Suite struct ExeScriptCommandTests {
    @Test func parsesGolemJsScript() throws {
        let script = try YagnaJSON.parse("""
            [{"deploy":{"env":{"A":"1"}}},{"start":{"args":[]}},
             {"run":{"entry_point":"/bin/sh","args":["-c","echo hi"],"capture":{"stdout":{"atEnd":{"format":"string"}},"stderr":{"stream":{"limit":4096}}}}},
             {"transfer":{"from":"https://example.org/x","to":"container:/golem/work/x"}},{"terminate":{}}]
            """)
        let commands = try ExeScriptCommand.parseScript(script)
        #expect(commands == [
            .deploy(env: ["A": "1"]), .start(args: []),
            .run(entryPoint: "/bin/sh", args: ["-c", "echo hi"], capture: Capture(stdout: .init(), stderr: .init())),
            .transfer(from: "https://example.org/x", to: "container:/golem/work/x"), .terminate,
        ])
    }

    @Test func runWithoutCaptureReturnsBothStreams() throws {
        let commands = try ExeScriptCommand.parseScript(try YagnaJSON.parse(#"[{"run":{"entry_point":"/bin/true"}}]"#))
        #expect(commands == [.run(entryPoint: "/bin/true", args: [], capture: .default)])
    }

    @Test func captureOnlyStdoutLeavesStderrOut() throws {
        let commands = try ExeScriptCommand.parseScript(try YagnaJSON.parse(
            #"[{"run":{"entry_point":"/bin/true","capture":{"stdout":{"atEnd":{"tail":3,"format":"bin"}}}}}]"#))
        #expect(commands == [.run(entryPoint: "/bin/true", args: [], capture: Capture(stdout: .init(part: .tail(3), binary: true), stderr: nil))])
    }

    @Test func refusesUnknownAndMalformedCommandsNamingTheIndex() {
        #expect(throws: ExeScriptError.self) { try ExeScriptCommand.parseScript(try YagnaJSON.parse(#"[{"start":{}},{"sign":{}}]"#)) }
        do {
            _ = try ExeScriptCommand.parseScript(try YagnaJSON.parse(#"[{"deploy":{}},{"run":{"args":[]}}]"#))
            Issue.record("a run without entry_point parsed")
        } catch {
            #expect("\(error)".contains("command 1 (run): entry_point is missing"))
        }
        #expect(throws: ExeScriptError.self) { try ExeScriptCommand.parseScript(.object([:])) }
    }

    @Test func hugeCaptureCountsKeepEverythingInsteadOfTrapping() throws {
        let commands = try ExeScriptCommand.parseScript(try YagnaJSON.parse(
            #"[{"run":{"entry_point":"/bin/true","capture":{"stdout":{"atEnd":{"head":1e300}},"stderr":{"atEnd":{"headTail":9.3e18}}}}}]"#))
        guard case .run(_, _, let capture) = try #require(commands.first) else { Issue.record("not a run"); return }
        let bytes: [UInt8] = Array("abcdefgh".utf8)
        let stdout = try #require(capture.stdout), stderr = try #require(capture.stderr)
        #expect(Capture.cut(bytes, stdout.part) == bytes)
        #expect(Capture.cut(bytes, stderr.part) == bytes)
    }

    @Test func captureCutsHeadTailAndBoth() {
        let bytes: [UInt8] = Array("abcdefgh".utf8)
        #expect(Capture.cut(bytes, .head(3)) == Array("abc".utf8))
        #expect(Capture.cut(bytes, .tail(3)) == Array("fgh".utf8))
        #expect(Capture.cut(bytes, .headTail(4)) == Array("abgh".utf8))
        #expect(Capture.cut(bytes, .headTail(20)) == bytes)
    }
}
