import Foundation
import GolemJobs
import LocalBackend
import Logging
import Synchronization
import Testing

private let logger = Logger(label: "local-backend-test")

private func text(_ bytes: [UInt8]?) -> String { String(decoding: bytes ?? [], as: UTF8.self) }

/// A backend over a fresh work root (with warm sandboxes unless `warm` is false), shut down and
/// removed afterwards.
private func withBackend<T>(
    downloadLimit: Int = 10 << 20, warm: Bool = true, _ body: (LocalBackend, String) async throws -> T
) async throws -> T {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("local-backend-\(UUID().uuidString)").path
    let backend = LocalBackend(
        configuration: LocalBackendConfiguration(workRoot: root, downloadLimit: downloadLimit, warmSandboxes: warm ? 4 : 0), logger: logger
    )
    do {
        let value = try await body(backend, root)
        await backend.shutdown()
        try? FileManager.default.removeItem(atPath: root)
        return value
    } catch {
        await backend.shutdown()
        try? FileManager.default.removeItem(atPath: root)
        throw error
    }
}

private func contents(_ root: String) -> [String] {
    (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
}

/// Whether no job left a file under `root`: fresh work directories are removed, warm ones emptied
/// (in the background, after the release).
private func noJobFilesLeft(_ root: String) async -> Bool {
    await eventually(.seconds(20)) { contents(root).allSatisfy { contents("\(root)/\($0)").isEmpty } }
}

private func processRunning(withArgument marker: String) -> Bool {
    for entry in contents("/proc") where entry.allSatisfy(\.isNumber) {
        guard let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { continue }
        if String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\0", with: " ").contains(marker) { return true }
    }
    return false
}

func eventually(_ bound: Duration = .seconds(30), _ condition: @Sendable () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + bound
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return await condition()
}

private func allEvents(_ job: Job) async -> [JobEvent] {
    var events: [JobEvent] = []
    for await event in job.events { events.append(event) }
    return events
}

private func makeEngine(_ backend: LocalBackend, concurrency: Int = 4) -> JobEngine {
    JobEngine(configuration: JobEngineConfiguration(concurrency: concurrency), backend: backend, logger: logger)
}

private let spec = JobSpec(work: [.run(RunStep(.shell("true")))])

@Suite struct LocalBackendTests {
    @Test(arguments: [true, false]) func runsEveryStepKindInOneWorkDirectory(warm: Bool) async throws {
        try await withBackend(warm: warm) { backend, root in
            let rental = try await backend.acquire(jobId: "steps", spec: spec, attempt: 1, logger: logger)
            #expect(rental.provider.id == "local")
            #expect(!contents(root).isEmpty)
            _ = try await rental.run(.uploadData(to: "/golem/work/in/data.txt", bytes: Array("hello\n".utf8)), index: 0, logger: logger)
            _ = try await rental.run(.uploadJson(to: "conf.json", json: Array(#"{"a":1}"#.utf8)), index: 1, logger: logger)
            let wc = try await rental.run(.run(RunStep(.shell("wc -c < in/data.txt > out.txt; cat conf.json; echo $NAME >&2"), env: ["NAME": "golem"])), index: 2, logger: logger)
            #expect(wc.exitCode == 0)
            #expect(wc.stdout == #"{"a":1}"#)
            #expect(wc.stderr == "golem\n")
            let echo = try await rental.run(.run(RunStep(.exec(command: "/bin/echo", args: ["Hello,", "Golem!"]))), index: 3, logger: logger)
            #expect(echo.stdout == "Hello, Golem!\n")
            let failing = try await rental.run(.run(RunStep(.shell("exit 4"))), index: 4, logger: logger)
            #expect(failing.exitCode == 4)
            let out = try await rental.run(.downloadData(from: "/golem/work/out.txt"), index: 5, logger: logger)
            #expect(text(out.data) == "6\n")
            let json = try await rental.run(.downloadJson(from: "/golem/work/conf.json"), index: 6, logger: logger)
            #expect(text(json.data) == #"{"a":1}"#)
            await rental.release(healthy: true)
            #expect(await noJobFilesLeft(root))
            if !warm { #expect(contents(root).isEmpty) }
        }
    }

    @Test func pathsOutsideTheWorkDirectoryAreRejectedNamingTheStep() async throws {
        try await withBackend { backend, _ in
            let rental = try await backend.acquire(jobId: "escape", spec: spec, attempt: 1, logger: logger)
            for path in ["/etc/golem-escape", "../escape", "/golem/work/../../etc/golem-escape", "/golem/workx/a", "/golem/work"] {
                await #expect(throws: JobError.self) {
                    try await rental.run(.uploadData(to: path, bytes: [1]), index: 7, logger: logger)
                }
                do {
                    _ = try await rental.run(.downloadData(from: path), index: 7, logger: logger)
                } catch let error as JobError {
                    #expect(error.code == .invalidRequest, "\(path)")
                    #expect(error.step == 7)
                    #expect(error.message.contains("step 7"))
                }
            }
            #expect(!FileManager.default.fileExists(atPath: "/etc/golem-escape"))
            await rental.release(healthy: false)
        }
    }

    @Test func symlinksPlantedByTheJobDoNotReachTheHost() async throws {
        try await withBackend { backend, _ in
            let rental = try await backend.acquire(jobId: "symlink", spec: spec, attempt: 1, logger: logger)
            let before = FileManager.default.contents(atPath: "/etc/hostname")
            _ = try await rental.run(.run(RunStep(.shell("ln -s /etc/hostname leak && ln -s /etc etcdir"))), index: 0, logger: logger)
            await #expect(throws: JobError.self) { try await rental.run(.downloadData(from: "leak"), index: 1, logger: logger) }
            await #expect(throws: JobError.self) { try await rental.run(.uploadData(to: "leak", bytes: [0x41]), index: 2, logger: logger) }
            await #expect(throws: JobError.self) { try await rental.run(.uploadData(to: "etcdir/golem-escape", bytes: [0x41]), index: 3, logger: logger) }
            await #expect(throws: JobError.self) { try await rental.run(.downloadData(from: "etcdir/hostname"), index: 4, logger: logger) }
            #expect(FileManager.default.contents(atPath: "/etc/hostname") == before)
            #expect(!FileManager.default.fileExists(atPath: "/etc/golem-escape"))
            await rental.release(healthy: false)
        }
    }

    @Test func transferAndOversizedDownloadsFailClearly() async throws {
        try await withBackend(downloadLimit: 1000) { backend, _ in
            let rental = try await backend.acquire(jobId: "limits", spec: spec, attempt: 1, logger: logger)
            do {
                _ = try await rental.run(.transfer(from: "https://example.com/x", to: "/golem/work/x"), index: 2, logger: logger)
                Issue.record("transfer succeeded")
            } catch let error as JobError {
                #expect(error.code == .commandFailed)
                #expect(error.message.contains("network"))
                #expect(error.step == 2)
            }
            _ = try await rental.run(.run(RunStep(.shell("head -c 5000 /dev/zero > big"))), index: 0, logger: logger)
            await #expect(throws: JobError.self) { try await rental.run(.downloadData(from: "big"), index: 1, logger: logger) }
            await #expect(throws: JobError.self) { try await rental.run(.downloadData(from: "missing"), index: 1, logger: logger) }
            await rental.release(healthy: true)
        }
    }

    @Test func cancelKillsARunningCommandAndEmptiesTheWorkDirectory() async throws {
        let marker = "100.\(Int.random(in: 100_000...999_999))"
        try await withBackend { backend, root in
            let engine = makeEngine(backend)
            let job = try await engine.createJob(id: "cancel-me", spec: JobSpec(work: [.run(RunStep(.shell("sleep \(marker)")))]))
            job.start()
            #expect(await eventually { processRunning(withArgument: "sleep \(marker)") })
            let start = ContinuousClock.now
            job.cancel(reason: "user changed their mind")
            let events = await allEvents(job)
            // The command sleeps 100 s: ending far sooner proves the kill (not a speed bound; CI is loaded).
            #expect(ContinuousClock.now - start < .seconds(60))
            #expect(events.map(\.kind) == [.created, .started, .canceled, .ended])
            #expect(events[2].error?.code == .canceled)
            #expect(events[2].error?.message.contains("user changed their mind") == true)
            #expect(!processRunning(withArgument: "sleep \(marker)"))
            #expect(await noJobFilesLeft(root))
        }
    }

    @Test func stepTimeoutKillsTheCommand() async throws {
        let marker = "100.\(Int.random(in: 100_000...999_999))"
        try await withBackend { backend, root in
            let engine = makeEngine(backend)
            let job = try await engine.createJob(id: "slow", spec: JobSpec(work: [.run(RunStep(.shell("sleep \(marker)"), timeout: .milliseconds(500)))]))
            job.start()
            let start = ContinuousClock.now
            await #expect(throws: JobError.self) { try await job.waitForResult() }
            // The command sleeps 100 s: ending far sooner proves the kill (not a speed bound; CI is loaded).
            #expect(ContinuousClock.now - start < .seconds(60))
            #expect(job.error?.code == .timeout)
            #expect(job.error?.step == 0)
            #expect(!processRunning(withArgument: "sleep \(marker)"))
            #expect(await noJobFilesLeft(root))
        }
    }

    @Test func forkBombAndMemoryBombFailOnlyTheirOwnJobs() async throws {
        try await withBackend { backend, _ in
            let engine = makeEngine(backend)
            let bomb = try await engine.createJob(id: "fork-bomb", spec: JobSpec(work: [
                .run(RunStep(.shell("bomb() { bomb | bomb & }; bomb; sleep 30"), timeout: .seconds(3))),
            ]))
            let memory = try await engine.createJob(id: "memory-bomb", spec: JobSpec(work: [
                .run(RunStep(.shell("python3 -c 'b = bytearray(4 << 30)'"))),
            ]))
            let fine = try await engine.createJob(id: "fine", spec: JobSpec(work: [
                .run(RunStep(.shell("sleep 1; echo still fine"))),
            ]))
            for job in [bomb, memory, fine] { job.start() }
            let result = try await fine.waitForResult()
            #expect(result.output == "still fine\n")
            await #expect(throws: JobError.self) { try await memory.waitForResult() }
            #expect(memory.error?.code == .commandFailed)
            await #expect(throws: JobError.self) { try await bomb.waitForResult() }
            #expect(bomb.error?.code == .timeout || bomb.error?.code == .commandFailed)
        }
    }

    /// The example: three jobs at once through JobEngine + LocalBackend, one canceled while it runs.
    @Test func threeConcurrentJobsOneCanceledWhileRunning() async throws {
        let marker = "100.\(Int.random(in: 100_000...999_999))"
        try await withBackend { backend, root in
            let engine = makeEngine(backend, concurrency: 3)
            let work: [WorkStep] = [
                .uploadData(to: "/golem/work/in.txt", bytes: Array("hello\n".utf8)),
                .run(RunStep(.shell("wc -c < /golem/work/in.txt > /golem/work/out.txt"))),
                .run(RunStep(.exec(command: "/bin/echo", args: ["Hello, Golem!"]))),
                .downloadData(from: "/golem/work/out.txt"),
            ]
            let a = try await engine.createJob(id: "job-a", spec: JobSpec(work: work, labels: ["customer": "acme"]))
            let b = try await engine.createJob(id: "job-b", spec: JobSpec(work: work))
            let c = try await engine.createJob(id: "job-c", spec: JobSpec(work: [.run(RunStep(.shell("echo begun; sleep \(marker)")))]))
            for job in [a, b, c] { job.start() }
            #expect(await eventually { processRunning(withArgument: "sleep \(marker)") })
            c.cancel(reason: "no longer needed")

            for job in [a, b] {
                let events = await allEvents(job)
                #expect(events.map(\.kind) == [.created, .started, .progress, .progress, .progress, .progress, .success, .ended])
                #expect(events.map(\.state) == [.new, .pending, .pending, .pending, .pending, .pending, .done, .done])
                #expect(events[1].attempt == 1 && events[1].provider?.id == "local")
                #expect(events[2...5].map { $0.step?.index } == [0, 1, 2, 3])
                let result = try #require(events[6].result)
                #expect(result.output == "Hello, Golem!\n")
                #expect(text(result.steps[3].data) == "6\n")
                #expect(job.state == .done)
            }
            let canceled = await allEvents(c)
            #expect(canceled.map(\.kind) == [.created, .started, .canceled, .ended])
            #expect(canceled[2].state == .rejected && canceled[3].state == .rejected)
            #expect(canceled[2].error?.code == .canceled)
            await #expect(throws: JobError.self) { try await c.waitForResult() }
            #expect(!processRunning(withArgument: "sleep \(marker)"))
            #expect(await noJobFilesLeft(root))
        }
    }
}

/// What a streaming step's sink was told, per stream, and whether it was cut.
private final class Heard: Sendable {
    private let state = Mutex<(out: [UInt8], err: [UInt8], cuts: Int)>(([], [], 0))
    var sink: StepOutputSink {
        { [self] stream, bytes, cut in
            state.withLock {
                if stream == .stdout { $0.out += bytes } else { $0.err += bytes }
                if cut { $0.cuts += 1 }
            }
        }
    }
    var stdout: String { state.withLock { String(decoding: $0.out, as: UTF8.self) } }
    var stderr: String { state.withLock { String(decoding: $0.err, as: UTF8.self) } }
    var cuts: Int { state.withLock { $0.cuts } }
}

@Suite struct LocalBackendStreamingTests {
    @Test(arguments: [true, false]) func outputReachesTheSinkWhileTheCommandRuns(warm: Bool) async throws {
        let marker = "100.\(Int.random(in: 100_000...999_999))"
        try await withBackend(warm: warm) { backend, _ in
            let rental = try await backend.acquire(jobId: "stream", spec: spec, attempt: 1, logger: logger)
            let heard = Heard()
            let step = WorkStep.run(RunStep(.shell("echo a; echo e >&2; sleep \(marker); echo b"), stream: true))
            let run = Task { try await rental.run(step, index: 0, logger: logger, output: heard.sink) }
            // The command sleeps 100 s after "a": hearing it while the command runs proves streaming.
            #expect(await eventually(.seconds(60)) { heard.stdout == "a\n" && heard.stderr == "e\n" })
            #expect(processRunning(withArgument: "sleep \(marker)"))
            run.cancel()
            _ = try? await run.value
            await rental.release(healthy: false)
            #expect(heard.stdout == "a\n")
        }
    }

    @Test(arguments: [true, false]) func theSinkHearsWhatTheResultKeepsAndOneCut(warm: Bool) async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("local-backend-\(UUID().uuidString)").path
        let backend = LocalBackend(
            configuration: LocalBackendConfiguration(workRoot: root, outputLimit: 4, warmSandboxes: warm ? 1 : 0), logger: logger
        )
        defer { try? FileManager.default.removeItem(atPath: root) }
        let rental = try await backend.acquire(jobId: "cut", spec: spec, attempt: 1, logger: logger)
        let heard = Heard()
        let step = WorkStep.run(RunStep(.shell("printf 12; sleep 0.1; printf 3456789; printf xy >&2"), stream: true))
        let result = try await rental.run(step, index: 0, logger: logger, output: heard.sink)
        await rental.release(healthy: true)
        await backend.shutdown()
        #expect(result.stdout == "1234" && result.outputTruncated)
        #expect(heard.stdout == result.stdout && heard.stderr == "xy")
        #expect(heard.cuts == 1)
    }
}
