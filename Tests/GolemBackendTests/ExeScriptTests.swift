import Foundation
import GolemJobs
import Testing
@testable import GolemBackend

@Suite struct ExeScriptTests {
    func decode(_ text: String) throws -> [[String: Any]] {
        try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]])
    }

    @Test func runIsShellOrExecWithCapturedOutput() throws {
        let shell = try decode(ExeScript.text(ExeScript.commands(for: .run(RunStep(.shell("echo hi"))))))
        let run = try #require(shell[0]["run"] as? [String: Any])
        #expect(run["entry_point"] as? String == "/bin/sh")
        #expect(run["args"] as? [String] == ["-c", "echo hi"])
        let capture = try #require(run["capture"] as? [String: Any])
        #expect((capture["stdout"] as? [String: Any])?["atEnd"] != nil)
        let exec = ExeScript.commands(for: .run(RunStep(.exec(command: "/bin/echo", args: ["a b"]))))
        #expect(exec == [.run(entryPoint: "/bin/echo", args: ["a b"])])
    }

    @Test func environmentGoesThroughEnvBecauseRunHasNoEnvField() {
        let commands = ExeScript.commands(for: .run(RunStep(.exec(command: "/bin/prog", args: ["x"]), env: ["B": "2", "A": "1"])))
        #expect(commands == [.run(entryPoint: "/usr/bin/env", args: ["--", "A=1", "B=2", "/bin/prog", "x"])])
    }

    @Test func deployAndStartComeFirst() throws {
        let script = try decode(ExeScript.text(ExeScript.deployAndStart))
        #expect(script[0]["deploy"] != nil)
        #expect(script[1]["start"] != nil)
    }

    @Test func anUploadCarriesItsBytesAsBase64InAnArgument() throws {
        let bytes = Array("hello 'quoted' $HOME\n".utf8)
        let commands = ExeScript.commands(for: .uploadData(to: "/golem/work/in.txt", bytes: bytes))
        #expect(commands.count == 1)
        guard case .run(let entry, let args) = commands[0] else { Issue.record("not a run"); return }
        #expect(entry == "/bin/sh")
        #expect(args[1].contains("base64 -d > \"$1\""))
        #expect(args[3] == "/golem/work/in.txt")
        #expect(Data(base64Encoded: args[4]).map { [UInt8]($0) } == bytes)
    }

    @Test func aLargeUploadIsChunkedAndAppended() throws {
        let bytes = [UInt8](repeating: 7, count: 200_000)
        let commands = ExeScript.commands(for: .uploadData(to: "/golem/work/big", bytes: bytes))
        var joined = ""
        for (index, command) in commands.enumerated() {
            guard case .run(_, let args) = command else { Issue.record("not a run"); return }
            #expect(args[4].count <= ExeScript.uploadChunk)
            #expect(args[1].contains(index == 0 ? "> \"$1\"" : ">> \"$1\""))
            joined += args[4]
        }
        #expect(commands.count == 3)
        // Chunk boundaries are multiples of 4 base64 characters, so each chunk decodes on its own.
        #expect(ExeScript.uploadChunk % 4 == 0)
        #expect(Data(base64Encoded: joined).map { [UInt8]($0) } == bytes)
    }

    @Test func downloadsAreReadAsBase64FromStdout() {
        let commands = ExeScript.commands(for: .downloadData(from: "/golem/work/out.txt"))
        guard case .run(_, let args) = commands[0] else { Issue.record("not a run"); return }
        #expect(args.last == "/golem/work/out.txt")
        #expect(ExeScript.decodeDownload("aGVs\nbG8K\n") == Array("hello\n".utf8))
        #expect(ExeScript.decodeDownload("") == [])
        #expect(ExeScript.decodeDownload("not base64!") == nil)
    }

    @Test func transferTargetsTheContainer() {
        #expect(ExeScript.commands(for: .transfer(from: "https://x/y", to: "/golem/work/y")) == [.transfer(from: "https://x/y", to: "container:/golem/work/y")])
    }

    @Test func exitCodesComeFromTheResultMessage() {
        #expect(ExeScript.exitCode(fromMessage: "ExeScript command exited with code 127") == 127)
        #expect(ExeScript.exitCode(fromMessage: "killed") == nil)
        #expect(ExeScript.exitCode(fromMessage: nil) == nil)
    }
}
