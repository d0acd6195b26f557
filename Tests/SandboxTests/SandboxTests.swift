import Foundation
import Logging
@testable import Sandbox
import Testing
#if canImport(Glibc)
import Glibc
#endif

private let logger = Logger(label: "sandbox-test")

/// A fresh host directory for one test, removed afterwards.
private func withWorkDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("sandbox-test-\(UUID().uuidString)").path
    try await Sandbox().prepareWorkDirectory(path)
    do {
        let value = try await body(path)
        await Sandbox().releaseWorkDirectory(path)
        return value
    } catch {
        await Sandbox().releaseWorkDirectory(path)
        throw error
    }
}

func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

private func processCount() -> Int {
    ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).filter { $0.allSatisfy(\.isNumber) }.count
}

/// Whether any process on the host has `marker` in its command line.
func processRunning(withArgument marker: String) -> Bool { hostPid(withArgument: marker) != nil }

/// The host pid of a process with `marker` in its command line.
func hostPid(withArgument marker: String) -> pid_t? {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return nil }
    for entry in entries where entry.allSatisfy(\.isNumber) {
        guard let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { continue }
        if text(Array(data)).replacingOccurrences(of: "\0", with: " ").contains(marker) { return pid_t(entry) }
    }
    return nil
}

@Suite struct SandboxTests {
    let sandbox = Sandbox()

    @Test func capturesOutputAndExitCodes() async throws {
        try await withWorkDirectory { dir in
            let result = try await sandbox.run(.shell("echo hello; echo oops >&2; exit 3", workDirectory: dir), logger: logger)
            #expect(result.exitCode == 3)
            #expect(text(result.stdout) == "hello\n")
            #expect(text(result.stderr) == "oops\n")
            #expect(!result.stdoutTruncated && !result.stderrTruncated && !result.timedOut)

            let exec = try await sandbox.run(SandboxCommand(executable: "/bin/echo", arguments: ["Hello,", "Golem!"], workDirectory: dir), logger: logger)
            #expect(exec.exitCode == 0)
            #expect(text(exec.stdout) == "Hello, Golem!\n")

            let killed = try await sandbox.run(.shell("kill -9 $$", workDirectory: dir), logger: logger)
            #expect(killed.exitCode == 137)

            let cwd = try await sandbox.run(.shell("pwd; id -u; echo $HOME; echo $GREETING", environment: ["GREETING": "hi"], workDirectory: dir), logger: logger)
            #expect(text(cwd.stdout) == "/golem/work\n65534\n/golem/work\nhi\n")
        }
    }

    @Test func truncatesOutputAtTheLimitAndSaysSo() async throws {
        try await withWorkDirectory { dir in
            let result = try await sandbox.run(.shell("head -c 3000000 /dev/zero | tr '\\\\0' a; echo done >&2", workDirectory: dir, outputLimit: 1000), logger: logger)
            #expect(result.exitCode == 0)
            #expect(result.stdout.count == 1000)
            #expect(result.stdoutTruncated)
            #expect(!result.stderrTruncated)
            #expect(text(result.stderr) == "done\n")
        }
    }

    @Test func hasNoNetwork() async throws {
        // A listener on the host's loopback: the sandbox must not reach it, nor resolve names.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(listener >= 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) } }
        #expect(listen(listener, 4) == 0)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        let port = Int(UInt16(bigEndian: address.sin_port))
        #expect(port > 0)

        try await withWorkDirectory { dir in
            let connect = try await sandbox.run(
                .shell("python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", \(port)), 2); print(\"connected\")'", workDirectory: dir),
                logger: logger
            )
            #expect(connect.exitCode != 0)
            #expect(!text(connect.stdout).contains("connected"))
            let broker = try await sandbox.run(
                .shell("python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", 5672), 2)'", workDirectory: dir), logger: logger
            )
            #expect(broker.exitCode != 0)
            let dns = try await sandbox.run(.shell("getent hosts example.com", workDirectory: dir), logger: logger)
            #expect(dns.exitCode != 0)
            let interfaces = try await sandbox.run(.shell("cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '", workDirectory: dir), logger: logger)
            #expect(text(interfaces.stdout) == "lo\n")
        }
    }

    @Test func cannotWriteOutsideItsWorkDirectoryAndTmp() async throws {
        let marker = "golem-sandbox-\(UUID().uuidString)"
        try await withWorkDirectory { dir in
            for target in ["/etc/\(marker)", "/usr/\(marker)", "/\(marker)", "/golem/\(marker)", "/proc/\(marker)"] {
                let result = try await sandbox.run(.shell("echo x > \(target)", workDirectory: dir), logger: logger)
                #expect(result.exitCode != 0, "wrote \(target)")
            }
            let tmp = try await sandbox.run(.shell("echo x > /tmp/\(marker) && cat /tmp/\(marker) && echo y > /golem/work/out.txt", workDirectory: dir), logger: logger)
            #expect(tmp.exitCode == 0, "\(text(tmp.stderr))")
            #expect(text(tmp.stdout) == "x\n")
            #expect(!FileManager.default.fileExists(atPath: "/tmp/\(marker)"))
            #expect(!FileManager.default.fileExists(atPath: "/etc/\(marker)"))
            #expect(!FileManager.default.fileExists(atPath: "/usr/\(marker)"))
            #expect(!FileManager.default.fileExists(atPath: "/\(marker)"))
            #expect(FileManager.default.contents(atPath: "\(dir)/out.txt") == Data("y\n".utf8))
            // A later sandbox gets a fresh /tmp.
            let again = try await sandbox.run(.shell("test -e /tmp/\(marker)", workDirectory: dir), logger: logger)
            #expect(again.exitCode != 0)
        }
    }

    @Test func forkBombIsContainedWhileOtherCommandsRun() async throws {
        try await withWorkDirectory { dir in
            let limits = SandboxLimits(maxProcesses: 32)
            async let bomb = sandbox.run(
                .shell("bomb() { bomb | bomb & }; bomb; sleep 30", workDirectory: dir, limits: limits, timeout: .seconds(4)), logger: logger
            )
            // Meanwhile the host's process count stays sane, and other sandboxes still start.
            let baseline = processCount()
            var peak = 0
            for _ in 0..<10 {
                try await Task.sleep(for: .milliseconds(100))
                peak = max(peak, processCount())
            }
            #expect(peak < baseline + 600, "host went from \(baseline) to \(peak) processes")
            for _ in 0..<3 {
                let other = try await sandbox.run(.shell("echo alive", workDirectory: dir), logger: logger)
                #expect(text(other.stdout) == "alive\n")
            }
            let start = ContinuousClock.now
            let result = try await bomb
            #expect(ContinuousClock.now - start < .seconds(10))
            #expect(result.exitCode != 0)
        }
    }

    @Test func memoryBombFailsWithinItsLimit() async throws {
        try await withWorkDirectory { dir in
            let limits = SandboxLimits(memoryBytes: 256 << 20)
            let result = try await sandbox.run(.shell("x=a; while true; do x=$x$x; done", workDirectory: dir, limits: limits, timeout: .seconds(20)), logger: logger)
            #expect(result.exitCode != 0)
            #expect(!result.timedOut)
            let python = try await sandbox.run(.shell("python3 -c 'b = bytearray(1 << 30)'", workDirectory: dir, limits: limits), logger: logger)
            #expect(python.exitCode != 0)
            #expect(text(python.stderr).contains("MemoryError"))
        }
    }

    @Test func cpuAndFileSizeLimits() async throws {
        try await withWorkDirectory { dir in
            let cpu = try await sandbox.run(.shell("while :; do :; done", workDirectory: dir, limits: SandboxLimits(cpuSeconds: 1), timeout: .seconds(20)), logger: logger)
            #expect(cpu.exitCode == 128 + SIGXCPU || cpu.exitCode == 137)
            #expect(!cpu.timedOut)
            let big = try await sandbox.run(.shell("head -c 2000000 /dev/zero > big", workDirectory: dir, limits: SandboxLimits(maxFileSizeBytes: 1 << 20)), logger: logger)
            #expect(big.exitCode != 0)
            let size = (try? FileManager.default.attributesOfItem(atPath: "\(dir)/big")[.size] as? Int) ?? 0
            #expect(size <= 1 << 20)
        }
    }

    /// Repeated because the failure it guards against was intermittent: with `--die-with-parent`
    /// alone, killing bwrap left the sandboxed processes running in about 1 start in 4.
    @Test(arguments: 1...8) func cancelKillsEveryProcessInTheSandbox(round: Int) async throws {
        let marker = "100.\(round)\(Int.random(in: 100_000...999_999))"
        try await withWorkDirectory { dir in
            let task = Task { try await sandbox.run(.shell("sleep \(marker) & sleep \(marker)", workDirectory: dir), logger: logger) }
            #expect(await eventually(.seconds(10)) { processRunning(withArgument: "sleep \(marker)") })
            task.cancel()
            // The commands sleep 100 s: returning at all means the cancel did not wait for them.
            await #expect(throws: CancellationError.self) { try await task.value }
            #expect(await eventually(.seconds(10)) { !processRunning(withArgument: "sleep \(marker)") })
        }
    }

    @Test func childPidIsReadFromCompleteBubblewrapInfoOnly() {
        let info = Array("{\n    \"child-pid\": 31854,\n    \"pid-namespace\": 4026532190\n}".utf8)
        #expect(ChildProcess.childPid(inInfo: info) == 31854)
        #expect(ChildProcess.childPid(inInfo: Array(info.prefix(20))) == nil)
        #expect(ChildProcess.childPid(inInfo: Array("{\"child-pid\": 318".utf8)) == nil)
        #expect(ChildProcess.childPid(inInfo: []) == nil)
    }

    @Test func timeoutKillsTheCommand() async throws {
        let marker = "100.\(Int.random(in: 100_000...999_999))"
        try await withWorkDirectory { dir in
            let start = ContinuousClock.now
            let result = try await sandbox.run(.shell("sleep \(marker)", workDirectory: dir, timeout: .milliseconds(500)), logger: logger)
            // The command sleeps 100 s: ending far sooner proves the kill (not a speed bound; CI is loaded).
            #expect(ContinuousClock.now - start < .seconds(60))
            #expect(result.timedOut)
            #expect(result.exitCode == 137)
            #expect(!processRunning(withArgument: "sleep \(marker)"))
        }
    }

    @Test func missingWorkDirectoryIsAnError() async throws {
        await #expect(throws: SandboxError.self) {
            try await sandbox.run(.shell("true", workDirectory: "/nonexistent/\(UUID().uuidString)"), logger: logger)
        }
    }
}

/// Polls `condition` until it holds or `bound` passed.
func eventually(_ bound: Duration = .seconds(30), _ condition: @Sendable () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + bound
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return await condition()
}
