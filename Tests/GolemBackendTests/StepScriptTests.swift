import Foundation
import GolemJobs
import Testing
import Yagna
@testable import GolemBackend

@Suite struct StepScriptTests {
    @Test func runIsShellOrExecWithBothStreamsCapturedAsBytes() throws {
        #expect(StepScript.commands(for: .run(RunStep(.shell("echo hi"))))
            == [.run(entryPoint: "/bin/sh", args: ["-c", "echo hi"], capture: StepScript.runCapture)])
        #expect(StepScript.commands(for: .run(RunStep(.exec(command: "/bin/echo", args: ["a b"]))))
            == [.run(entryPoint: "/bin/echo", args: ["a b"], capture: StepScript.runCapture)])
    }

    /// A streaming run asks the exe-unit for a `stream` capture, the shape yagna's serde reads
    /// (`{"stream":{"limit":N,"format":"bin"}}` per stream): only then does it send stdout/stderr events.
    @Test func aStreamingRunCapturesInStreamModeAsBytesUpToTheLimit() throws {
        let step = WorkStep.run(RunStep(.shell("echo hi"), stream: true))
        #expect(StepScript.commands(for: step, streamLimit: 4096)
            == [.run(entryPoint: "/bin/sh", args: ["-c", "echo hi"], capture: StepScript.streamCapture(limit: 4096))])
        #expect(try ExeScriptCommand.text(StepScript.commands(for: step, streamLimit: 4096)) == #"[{"run":{"args":["-c","echo hi"],"#
            + #""capture":{"stderr":{"stream":{"format":"bin","limit":4096}},"stdout":{"stream":{"format":"bin","limit":4096}}},"entry_point":"/bin/sh"}}]"#)
        #expect(StepScript.commands(for: step) == [.run(entryPoint: "/bin/sh", args: ["-c", "echo hi"], capture: StepScript.runCapture)],
                "without a limit (no sink to stream to) the run captures at its end")
    }

    /// A VM runs `entry_point` with execve (no PATH lookup): a bare command goes through the shell,
    /// its arguments passed as they are.
    @Test func aBareCommandIsLookedUpByTheShell() {
        #expect(StepScript.commands(for: .run(RunStep(.exec(command: "python3", args: ["-c", "print('a b')", "$HOME"]))))
            == [.run(entryPoint: "/bin/sh", args: ["-c", #"exec "$0" "$@""#, "python3", "-c", "print('a b')", "$HOME"], capture: StepScript.runCapture)])
        #expect(StepScript.commands(for: .run(RunStep(.exec(command: "./tool", args: []))))
            == [.run(entryPoint: "./tool", args: [], capture: StepScript.runCapture)], "a path is the user's to get right")
    }

    /// The cleanup's shell text, run by this machine's /bin/sh on a folder standing in for `/golem/work`.
    static func emptyWorkFolder(_ folder: URL, path: String) throws -> (status: Int32, stderr: String) {
        guard case .run(let entryPoint, let args, _) = StepScript.emptyWorkFolder, args.count == 2 else {
            throw CocoaError(.featureUnsupported)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: entryPoint)
        process.arguments = ["-c", args[1].replacingOccurrences(of: "/golem/work", with: folder.path)]
        process.environment = ["PATH": path]
        let stderr = Pipe()
        process.standardError = stderr
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }

    @Test func theCleanupEmptiesTheFolderAndFailsWhenItCannot() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("work-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let fill = {
            try FileManager.default.createDirectory(at: folder.appendingPathComponent("d/e"), withIntermediateDirectories: true)
            for name in ["a", ".hidden", "..odd", "d/e/f"] {
                try Data("x".utf8).write(to: folder.appendingPathComponent(name))
            }
        }
        try fill()
        let emptied = try Self.emptyWorkFolder(folder, path: "/usr/bin:/bin")
        #expect(emptied.status == 0, "\(emptied.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
        // An image without `rm` (or anything else that leaves a file): the cleanup says so and fails.
        try fill()
        let left = try Self.emptyWorkFolder(folder, path: "/nonexistent")
        #expect(left.status == 1)
        #expect(left.stderr.contains("left in"), "\(left.stderr)")
    }

    /// An empty folder is found empty with builtins alone: the `chmod` and `rm` on PATH (here ones
    /// that only note that they ran) are not started.
    @Test func anEmptyFolderIsCleanedWithoutStartingAProgram() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("clean-\(UUID().uuidString)")
        let folder = root.appendingPathComponent("work"), bin = root.appendingPathComponent("bin")
        let ran = root.appendingPathComponent("ran")
        defer { try? FileManager.default.removeItem(at: root) }
        for dir in [folder, bin] { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) }
        for name in ["chmod", "rm"] {
            let tool = bin.appendingPathComponent(name)
            try Data("#!/bin/sh\necho \(name) >> '\(ran.path)'\n".utf8).write(to: tool)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: tool.path)
        }
        let result = try Self.emptyWorkFolder(folder, path: bin.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: ran.path), "started: \((try? String(contentsOf: ran, encoding: .utf8)) ?? "")")
    }

    /// The text yagna gets for a shell step, pinned: keys sorted, slashes unescaped, `entry_point`.
    @Test func aRunStepsTextIsWhatYagnaReads() throws {
        let text = try ExeScriptCommand.text(StepScript.commands(for: .run(RunStep(.shell("echo hi")))))
        #expect(text == #"[{"run":{"args":["-c","echo hi"],"capture":{"stderr":{"atEnd":{"format":"bin"}},"stdout":{"atEnd":{"format":"bin"}}},"entry_point":"/bin/sh"}}]"#)
    }

    @Test func environmentGoesThroughEnvBecauseRunHasNoEnvField() {
        let commands = StepScript.commands(for: .run(RunStep(.exec(command: "/bin/prog", args: ["x"]), env: ["B": "2", "A": "1"])))
        #expect(commands == [.run(entryPoint: "/usr/bin/env", args: ["--", "A=1", "B=2", "/bin/prog", "x"], capture: StepScript.runCapture)])
    }

    @Test func deployAndStartComeFirst() throws {
        #expect(try ExeScriptCommand.text(StepScript.deployAndStart) == #"[{"deploy":{}},{"start":{"args":[]}}]"#)
    }

    @Test func anUploadCarriesItsBytesAsBase64InAnArgument() throws {
        let bytes = Array("hello 'quoted' $HOME\n".utf8)
        let commands = StepScript.commands(for: .uploadData(to: "/golem/work/in.txt", bytes: bytes))
        #expect(commands.count == 1)
        guard case .run(let entry, let args, _) = commands[0] else { Issue.record("not a run"); return }
        #expect(entry == "/bin/sh")
        #expect(args[1].contains("base64 -d > \"$1\""))
        #expect(args[3] == "/golem/work/in.txt")
        #expect(Data(base64Encoded: args[4]).map { [UInt8]($0) } == bytes)
    }

    @Test func aLargeUploadIsChunkedAndAppended() throws {
        let bytes = [UInt8](repeating: 7, count: 200_000)
        let commands = StepScript.commands(for: .uploadData(to: "/golem/work/big", bytes: bytes))
        var joined = ""
        for (index, command) in commands.enumerated() {
            guard case .run(_, let args, _) = command else { Issue.record("not a run"); return }
            #expect(args[4].count <= StepScript.uploadChunk)
            #expect(args[1].contains(index == 0 ? "> \"$1\"" : ">> \"$1\""))
            joined += args[4]
        }
        #expect(commands.count == 3)
        // Chunk boundaries are multiples of 4 base64 characters, so each chunk decodes on its own.
        #expect(StepScript.uploadChunk % 4 == 0)
        #expect(Data(base64Encoded: joined).map { [UInt8]($0) } == bytes)
    }

    @Test func downloadsAreReadAsBase64FromStdout() {
        let commands = StepScript.commands(for: .downloadData(from: "/golem/work/out.txt"))
        guard case .run(_, let args, let capture) = commands[0] else { Issue.record("not a run"); return }
        #expect(args.last == "/golem/work/out.txt")
        #expect(capture == .whole)
        #expect(StepScript.decodeDownload("aGVs\nbG8K\n") == Array("hello\n".utf8))
        #expect(StepScript.decodeDownload("") == [])
        #expect(StepScript.decodeDownload("not base64!") == nil)
    }

    @Test func transferTargetsTheContainer() {
        #expect(StepScript.commands(for: .transfer(from: "https://x/y", to: "/golem/work/y")) == [.transfer(from: "https://x/y", to: "container:/golem/work/y")])
    }

    @Test func exitCodesComeFromTheResultMessage() {
        #expect(StepScript.exitCode(fromMessage: "ExeScript command exited with code 127") == 127)
        #expect(StepScript.exitCode(fromMessage: "killed") == nil)
        #expect(StepScript.exitCode(fromMessage: nil) == nil)
    }
}
