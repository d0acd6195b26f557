import Foundation
import Logging
@testable import Sandbox
import Testing
#if canImport(Glibc)
import Glibc
#endif

private let logger = Logger(label: "output-loop-test")

/// What command `index` writes: on stdout a header with a NUL and a 0xFF byte, 200,000 bytes of
/// lines naming it (more than a pipe holds, so it arrives in many reads), a trailer; on stderr
/// 70,000 bytes of its own lines.
private func command(_ index: Int) -> String {
    "printf 'start-\(index)\\000\\377\\n'; yes line-\(index) | head -c 200000; printf 'end-\(index)'; yes err-\(index) | head -c 70000 >&2"
}

private func expected(_ index: Int) -> (stdout: [UInt8], stderr: [UInt8]) {
    func repeated(_ line: String, _ count: Int) -> [UInt8] {
        let bytes = Array((line + "\n").utf8)
        return Array((0..<(count / bytes.count + 1)).lazy.flatMap { _ in bytes }.prefix(count))
    }
    let stdout = Array("start-\(index)".utf8) + [0, 0xFF, 0x0A] + repeated("line-\(index)", 200_000) + Array("end-\(index)".utf8)
    return (stdout, repeated("err-\(index)", 70_000))
}

/// `count` fresh work directories under one new folder.
private func workDirectories(_ count: Int, _ sandbox: Sandbox) async throws -> [String] {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("output-loop-\(UUID().uuidString)").path
    let directories = (0..<count).map { "\(root)/\($0)" }
    for directory in directories { try await sandbox.prepareWorkDirectory(directory) }
    return directories
}

/// Removes the folder of ``workDirectories(_:_:)`` when a test ends early (else each directory is
/// released, which gives its uid back to the pool).
private func removeWorkDirectories(_ directories: [String]) {
    if let first = directories.first { try? FileManager.default.removeItem(atPath: (first as NSString).deletingLastPathComponent) }
}

/// This process's threads asleep where a thread given to one command would wait: reading a pipe,
/// in `poll`/`select`, or in `waitpid` (their kernel wait channel, `/proc/self/task/*/wchan`). The
/// output loop waits in `epoll_wait`, and the other suites running meanwhile mostly on futexes, so
/// their threads do not count (the whole process's thread count did, and made this test flaky).
private func threadsWaitingLikeACommandsOwn() -> Int {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
    return tasks.count { task in
        let channel = (try? String(contentsOfFile: "/proc/self/task/\(task)/wchan", encoding: .utf8)) ?? ""
        return channel.contains("pipe_read") || channel.hasPrefix("poll_schedule_timeout") || channel == "do_select"
            || channel == "do_wait" || channel.contains("wait4")
    }
}

@Suite struct OutputLoopTests {
    @Test func manyConcurrentCommandsOutputArrivesIntactAndSeparate() async throws {
        let sandbox = Sandbox()
        let directories = try await workDirectories(24, sandbox)
        defer { removeWorkDirectories(directories) }
        let results = try await withThrowingTaskGroup(of: (Int, SandboxResult).self) { group in
            for (index, directory) in directories.enumerated() {
                group.addTask { (index, try await sandbox.run(.shell(command(index), workDirectory: directory), logger: logger)) }
            }
            return try await group.reduce(into: [Int: SandboxResult]()) { $0[$1.0] = $1.1 }
        }
        #expect(results.count == directories.count)
        for (index, result) in results.sorted(by: { $0.key < $1.key }) {
            let want = expected(index)
            #expect(result.exitCode == 0, "command \(index): \(text(result.stderr.suffix(200)))")
            #expect(result.stdout == want.stdout, "command \(index): stdout of \(result.stdout.count) bytes")
            #expect(result.stderr == want.stderr, "command \(index): stderr of \(result.stderr.count) bytes")
            #expect(!result.stdoutTruncated && !result.stderrTruncated)
        }
        for directory in directories { await sandbox.releaseWorkDirectory(directory) }
    }

    @Test func warmSandboxesRunningTogetherKeepTheirOutputApart() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("output-loop-warm-\(UUID().uuidString)").path
        let sandbox = Sandbox()
        try await sandbox.prepareWorkRoot(root)
        let pool = try #require(WarmSandboxPool(sandbox: sandbox, workRoot: root, size: 4, logger: logger), "golem-sandbox-warden is built beside the tests")
        defer { try? FileManager.default.removeItem(atPath: root) }
        pool.fill()
        #expect(await eventually(.seconds(30)) { pool.readyCount == 4 })
        let results = try await withThrowingTaskGroup(of: (Int, SandboxResult?).self) { group in
            for index in 0..<4 {
                group.addTask {
                    guard let warm = try await pool.checkout() else { return (index, nil) }
                    let result = try await warm.run(.shell(command(index), workDirectory: ""), logger: logger)
                    pool.checkin(warm)
                    return (index, result)
                }
            }
            return try await group.reduce(into: [Int: SandboxResult?]()) { $0[$1.0] = $1.1 }
        }
        await pool.shutdown()
        #expect(results.count == 4)
        for (index, result) in results.sorted(by: { $0.key < $1.key }) {
            let result = try #require(result, "command \(index) got a warm sandbox")
            let want = expected(index)
            #expect(result.exitCode == 0)
            #expect(result.stdout == want.stdout, "command \(index): stdout of \(result.stdout.count) bytes")
            #expect(result.stderr == want.stderr, "command \(index): stderr of \(result.stderr.count) bytes")
        }
    }

    @Test func runningCommandsDoNotEachGetAThread() async throws {
        let sandbox = Sandbox()
        let directories = try await workDirectories(16, sandbox)
        defer { removeWorkDirectories(directories) }
        // The loop's thread exists once anything ran.
        _ = try await sandbox.run(.shell("true", workDirectory: directories[0]), logger: logger)
        let before = threadsWaitingLikeACommandsOwn()
        let marker = "100.\(Int.random(in: 100_000...999_999))"
        let running = directories.map { directory in
            Task { try await sandbox.run(SandboxCommand(executable: "/bin/sleep", arguments: [marker], workDirectory: directory), logger: logger) }
        }
        #expect(await eventually(.seconds(30)) { countSleeps(marker) == directories.count })
        let during = threadsWaitingLikeACommandsOwn()
        for task in running { task.cancel() }
        for task in running { _ = try? await task.value }
        // A thread per command would be 16 more, each reading its pipes or waiting for its process.
        #expect(during - before < 8, "\(before) such threads before, \(during) with 16 commands running")
        for directory in directories { await sandbox.releaseWorkDirectory(directory) }
    }
}

/// Processes whose command line is exactly `/bin/sleep <marker>` (not the bwraps that started them).
private func countSleeps(_ marker: String) -> Int {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.filter { entry in
        guard entry.allSatisfy(\.isNumber), let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return false }
        return text(Array(data)) == "/bin/sleep\0\(marker)\0"
    }.count
}
