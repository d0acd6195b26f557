import Foundation
import Logging
@testable import Sandbox
import Testing
#if canImport(Glibc)
import Glibc
#endif

private let logger = Logger(label: "warm-sandbox-test")

/// A pool of one warm sandbox over a fresh work root, shut down and removed afterwards. With one
/// sandbox, a job that finds it ready again after a checkin gets the same sandbox as the job before.
private func withPool<T>(_ body: (WarmSandboxPool) async throws -> T) async throws -> T {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("warm-test-\(UUID().uuidString)").path
    let sandbox = Sandbox()
    try await sandbox.prepareWorkRoot(root)
    let pool = try #require(WarmSandboxPool(sandbox: sandbox, workRoot: root, size: 1, logger: logger), "golem-sandbox-warden is built beside the tests")
    pool.fill()
    do {
        let value = try await body(pool)
        await pool.shutdown()
        try? FileManager.default.removeItem(atPath: root)
        return value
    } catch {
        await pool.shutdown()
        try? FileManager.default.removeItem(atPath: root)
        throw error
    }
}

/// Runs `line` in a sandbox taken from the pool, gives it back and waits until it is ready again
/// (reset, or replaced); returns the result and the sandbox's work directory.
private func job(
    _ pool: WarmSandboxPool, _ line: String, environment: [String: String] = [:], limits: SandboxLimits = SandboxLimits(),
    timeout: Duration? = nil
) async throws -> (result: SandboxResult, directory: String) {
    #expect(await eventually(.seconds(20)) { pool.readyCount == 1 })
    let warm = try #require(try await pool.checkout())
    let result = try await warm.run(.shell(line, environment: environment, workDirectory: "", limits: limits, timeout: timeout), logger: logger)
    pool.checkin(warm)
    #expect(await eventually(.seconds(20)) { pool.readyCount == 1 })
    return (result, warm.workDirectory)
}

@Suite struct WarmSandboxTests {
    @Test func noFilesOrIPCObjectsCrossToTheNextJob() async throws {
        try await withPool { pool in
            let first = try await job(pool, """
                echo a > /golem/work/a && mkdir -p /golem/work/d/e && chmod 0 /golem/work/d && \
                echo b > /tmp/b && mkdir -p /tmp/x/y && touch /tmp/x/y/z && chmod 0 /tmp/x && \
                echo c > /dev/shm/c && ln -s /etc/passwd /tmp/link && ipcmk -M 4096 >/dev/null && \
                chmod 0700 /tmp && ls -A /golem/work /tmp /dev/shm | tr '\\n' ' ' && ipcs -m | grep -c '^0x'
                """)
            #expect(first.result.exitCode == 0, "\(text(first.result.stderr))")
            #expect(text(first.result.stdout).contains("b link x"))
            let second = try await job(pool, "ls -A /golem/work /tmp /dev/shm; ipcs -m | grep -c '^0x'; stat -c %a /tmp")
            #expect(second.directory == first.directory, "the same sandbox, reset")
            #expect(text(second.result.stdout) == "/dev/shm:\n\n/golem/work:\n\n/tmp:\n0\n755\n")
            #expect((try? FileManager.default.contentsOfDirectory(atPath: first.directory)) == [])
        }
    }

    @Test func noProcessOutlivesItsJob() async throws {
        let marker = "100.\(Int.random(in: 100_000...999_999))"
        try await withPool { pool in
            let first = try await job(pool, "sleep \(marker) & setsid sleep \(marker) & (sleep \(marker) &) ; nohup sleep \(marker) >/dev/null 2>&1 & echo left")
            #expect(text(first.result.stdout) == "left\n")
            // The run returns only after every process of the job was killed and reaped.
            #expect(!processRunning(withArgument: "sleep \(marker)"))
            let second = try await job(pool, "ps -e -o pid= -o comm= | sort -n")
            #expect(second.directory == first.directory)
            let lines = text(second.result.stdout).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            // PID 1 (the warden, run from /proc/self/fd) and this job's own sh, ps and sort; no sleep.
            #expect(lines.first?.hasPrefix("1 ") == true)
            #expect(lines.count == 4, "\(lines)")
            #expect(!lines.contains { $0.hasSuffix("sleep") })
        }
    }

    @Test func noEnvironmentCrossesAndOnlyStandardDescriptorsAreOpen() async throws {
        try await withPool { pool in
            let first = try await job(pool, "exec 7>/tmp/held; export LEFT=1; echo $SECRET", environment: ["SECRET": "s3cr3t"])
            #expect(text(first.result.stdout) == "s3cr3t\n")
            let second = try await job(pool, "env | cut -d= -f1 | sort | tr '\\n' ' '; ls /proc/self/fd | tr '\\n' ' '")
            #expect(second.directory == first.directory)
            // dash adds PWD; ls lists its own directory descriptor (3).
            #expect(text(second.result.stdout) == "HOME LANG PATH PWD TMPDIR 0 1 2 3 ")
        }
    }

    @Test func limitsAreSetAgainForEachJob() async throws {
        try await withPool { pool in
            let first = try await job(pool, "ulimit -n 64; ulimit -n; ulimit -p", limits: SandboxLimits(maxProcesses: 50, maxOpenFiles: 100))
            #expect(text(first.result.stdout) == "64\n50\n")
            let second = try await job(pool, "ulimit -n; ulimit -p; ulimit -c", limits: SandboxLimits(maxProcesses: 60, maxOpenFiles: 200))
            #expect(second.directory == first.directory)
            #expect(text(second.result.stdout) == "200\n60\n0\n")
        }
    }

    @Test func aForkBombIsKilledWholeAndItsSandboxCleanForTheNext() async throws {
        try await withPool { pool in
            // The wait is a loop of builtins: with the process limit reached, `sleep` could not be forked and
            // the shell would exit 2 (seen on a loaded machine) instead of the job's own 3.
            let bomb = try await job(
                pool, "bomb() { bomb | bomb & }; bomb; i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; exit 3",
                limits: SandboxLimits(maxProcesses: 32)
            )
            #expect(bomb.result.exitCode == 3)
            let next = try await job(pool, "ps -e -o pid= | wc -l; ulimit -p")
            #expect(next.directory == bomb.directory)
            // PID 1, sh, ps, wc: nothing of the bomb is left, and its processes no longer count.
            #expect(text(next.result.stdout) == "4\n128\n")
        }
    }

    @Test func aFilledTmpIsEmptyAgainForTheNextJob() async throws {
        try await withPool { pool in
            let full = try await job(pool, "head -c 50000000 /dev/zero > /tmp/big; head -c 20000000 /dev/zero > /dev/shm/big; df -k /tmp | tail -1")
            #expect(full.result.exitCode == 0)
            let next = try await job(pool, "df -k /tmp /dev/shm | tail -2 | awk '{print $3}'")
            #expect(next.directory == full.directory)
            #expect(text(next.result.stdout) == "0\n0\n")
        }
    }

    @Test func aSandboxWhoseWardenTheJobWeakenedIsReplaced() async throws {
        try await withPool { pool in
            // Same uid as the warden: the job may lower its limits; the reset sees it.
            let first = try await job(pool, "prlimit --pid 1 --nofile=10:10")
            #expect(first.result.exitCode == 0)
            let next = try await job(pool, "ulimit -n")
            #expect(next.directory != first.directory, "replaced, not reused")
            #expect(text(next.result.stdout) == "1024\n")
            #expect(!FileManager.default.fileExists(atPath: first.directory))
        }
    }

    @Test func aChangedDevIsReplaced() async throws {
        try await withPool { pool in
            let first = try await job(pool, "echo x > /dev/planted")
            #expect(first.result.exitCode == 0)
            let next = try await job(pool, "ls /dev/planted")
            #expect(next.directory != first.directory)
            #expect(next.result.exitCode != 0)
        }
    }

    @Test func aKilledWardenFailsTheCommandAndIsReplaced() async throws {
        let marker = "100.\(Int.random(in: 100_000...999_999))"
        try await withPool { pool in
            #expect(await eventually(.seconds(20)) { pool.readyCount == 1 })
            let warm = try #require(try await pool.checkout())
            let running = Task { try await warm.run(SandboxCommand(executable: "/bin/sleep", arguments: [marker], workDirectory: ""), logger: logger) }
            #expect(await eventually(.seconds(10)) { processRunning(withArgument: "sleep \(marker)") })
            // The job's first process is the warden's child: kill the warden from the host.
            let sleeper = try #require(hostPid(withArgument: "sleep \(marker)"))
            let warden = try #require(parentPid(of: sleeper))
            #expect(kill(warden, SIGKILL) == 0)
            await #expect(throws: SandboxError.self) { try await running.value }
            #expect(warm.brokenReason != nil)
            #expect(!processRunning(withArgument: "sleep \(marker)"))
            pool.checkin(warm)
            let next = try await job(pool, "echo fresh")
            #expect(next.directory != warm.workDirectory)
            #expect(text(next.result.stdout) == "fresh\n")
        }
    }

    @Test func aTimedOutOrCancelledJobsSandboxIsReplaced() async throws {
        let marker = "100.\(Int.random(in: 100_000...999_999))"
        try await withPool { pool in
            let slow = try await job(pool, "sleep \(marker)", timeout: .milliseconds(300))
            #expect(slow.result.timedOut && slow.result.exitCode == 137)
            #expect(!processRunning(withArgument: "sleep \(marker)"))
            let next = try await job(pool, "true")
            #expect(next.directory != slow.directory)

            let warm = try #require(try await pool.checkout())
            let running = Task { try await warm.run(.shell("sleep \(marker)", workDirectory: ""), logger: logger) }
            #expect(await eventually(.seconds(10)) { processRunning(withArgument: "sleep \(marker)") })
            running.cancel()
            await #expect(throws: CancellationError.self) { try await running.value }
            #expect(!processRunning(withArgument: "sleep \(marker)"))
            pool.checkin(warm)
            let after = try await job(pool, "true")
            #expect(after.directory != warm.workDirectory)
        }
    }

    @Test func aJobRightAfterAnotherTakesTheSandboxBeingResetRatherThanStartingOne() async throws {
        try await withPool { pool in
            #expect(await eventually(.seconds(20)) { pool.readyCount == 1 })
            var directories: Set<String> = []
            for round in 0..<5 {
                // Taken back and asked for again at once: the reset is still running.
                let warm = try #require(try await pool.checkout())
                directories.insert(warm.workDirectory)
                let result = try await warm.run(.shell("ls -A; echo \(round) > mark", workDirectory: ""), logger: logger)
                #expect(result.stdout.isEmpty, "the reset ran before the next job")
                pool.checkin(warm)
            }
            #expect(directories.count == 1)
        }
    }

    @Test func aJobThatFindsEverySandboxInUseRunsFresh() async throws {
        try await withPool { pool in
            let warm = try #require(try await pool.checkout())
            #expect(try await pool.checkout() == nil)
            pool.checkin(warm)
            #expect(try await pool.checkout() === warm)
        }
    }

    @Test func runRequestCarriesLimitsArgumentsAndEnvironment() throws {
        let command = SandboxCommand(executable: "/bin/echo", arguments: ["a b"], workDirectory: "/w", limits: SandboxLimits(
            cpuSeconds: 7, memoryBytes: nil, maxProcesses: nil, maxFileSizeBytes: nil, maxOpenFiles: nil
        ))
        let request = try #require(WarmSandbox.runRequest(command, environment: ["K": "v"]))
        var expected: [UInt8] = [UInt8(ascii: "R"), 1, 0, 0, 0]
        withUnsafeBytes(of: Int32(RLIMIT_CPU.rawValue).littleEndian) { expected += $0 }
        withUnsafeBytes(of: UInt64(7).littleEndian) { expected += $0 }
        expected += [2, 0, 0, 0, 1, 0, 0, 0] + Array("/bin/echo\0a b\0K=v\0".utf8)
        #expect(request == expected)
        let huge = SandboxCommand(executable: "/bin/echo", arguments: [String(repeating: "x", count: WarmSandbox.requestLimit)], workDirectory: "/w")
        #expect(WarmSandbox.runRequest(huge, environment: [:]) == nil)
        #expect(WarmSandbox.runRequest(SandboxCommand(executable: "/bin/echo", arguments: ["a\0b"], workDirectory: "/w"), environment: [:]) == nil)
    }
}

private func parentPid(of pid: pid_t) -> pid_t? {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    let line = status.split(separator: "\n").first { $0.hasPrefix("PPid:") }
    return line.flatMap { pid_t($0.dropFirst(5).trimmingCharacters(in: .whitespaces)) }
}
