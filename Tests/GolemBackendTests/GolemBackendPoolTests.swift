import Foundation
import GolemJobs
import GolemLocalTestSupport
import Logging
import Testing
import Yagna
@testable import GolemBackend

/// The warm pool against the real yagna of scripts/golem-local and our provider agent
/// (`golem-bridge provider`, which runs each batch in a sandbox): what a reused rental costs a job
/// (counted in the requestor node's own access log, not a mock), and that nothing crosses from one
/// job to the next, even when the activity dies between them.
@Suite(.serialized, .enabled(if: GolemLocal.providerCount > 0 && ProviderAgent.binary != nil))
struct GolemBackendPoolTests {
    let net: GolemLocal
    let subnet = "pool-\(UUID().uuidString.prefix(8).lowercased())"
    let directory: String

    init() throws {
        net = try GolemLocal.load()
        directory = NSTemporaryDirectory() + "golem-pool-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    var requestor: YagnaClient { YagnaClient(configuration: net.requestor, logger: testLogger) }

    /// A backend with a pool of one, our agent serving this test's subnet, both stopped after `body`.
    func withPool(_ body: (GolemBackend) async throws -> Void) async throws {
        let agent = try ProviderAgent(net: net, subnet: subnet, directory: directory)
        let configuration = GolemBackendConfiguration(
            yagna: net.requestor, paymentPlatform: net.values["GOLEM_LOCAL_PAYMENT_PLATFORM"], subnet: subnet, budget: 5,
            defaultPackage: PackageSpec(imageHash: String(repeating: "d", count: 56), imageUrl: "http://127.0.0.1:1/image.gvmi"),
            negotiationTimeout: .seconds(60), pollInterval: .seconds(1), cleanupTimeout: .seconds(5),
            pool: RentalPoolPolicy(maxSize: 1), statePath: directory + "/state.sqlite"
        )
        let backend = GolemBackend(configuration: configuration, store: try SQLiteRentalStore(path: configuration.statePath), logger: testLogger)
        do {
            try await backend.start()
            try await body(backend)
        } catch {
            await backend.shutdown(invoiceGrace: .zero)
            await agent.stop()
            throw error
        }
        await backend.shutdown(invoiceGrace: .zero)
        await agent.stop()
    }

    /// One job of `run` steps on one rental; its outputs, the lease it ran on, and the requestor
    /// node's log lines written while it ran (before the rental went back: its cleanup is not in them).
    func job(_ commands: [String], on backend: GolemBackend) async throws -> (stdout: [String], lease: Lease, log: [String]) {
        try await job(steps: commands.map { .run(RunStep(.shell($0))) }, on: backend)
    }

    func job(steps: [WorkStep], on backend: GolemBackend) async throws -> (stdout: [String], lease: Lease, log: [String]) {
        let log = RequestorLog(net: net)
        let spec = JobSpec(work: steps)
        let rental = try #require(try await backend.acquire(jobId: "pool-job", spec: spec, attempt: 1, logger: testLogger) as? GolemRental)
        var stdout: [String] = []
        for (index, step) in spec.work.enumerated() {
            let result = try await rental.run(step, index: index, logger: testLogger)
            #expect(result.exitCode == nil || result.exitCode == 0, "\(result.stderr ?? "")")
            stdout.append(result.stdout ?? "")
        }
        let lines = try log.linesSince()
        let lease = rental.lease
        await rental.release(healthy: true)
        return (stdout, lease, lines)
    }

    /// Until the pool holds one idle, cleaned rental (its cleanup runs in the background).
    func untilCleaned(_ backend: GolemBackend) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while backend.rentals.withLock({ $0.pool.idle.map(\.cleaning) }) != [false] {
            guard ContinuousClock.now < deadline else { Issue.record("the rental was not cleaned within 30 s"); return }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Idle rentals of the pool and whether each is still being cleaned.
    func idle(_ backend: GolemBackend) -> [Bool] { backend.rentals.withLock { $0.pool.idle.map(\.cleaning) } }

    @Test func aWarmJobRunsExactlyOneBatchAndNoCheckBeforeIt() async throws {
        try await withPool { backend in
            let first = try await job(["echo first"], on: backend)
            // Its batch emptied the work folder after its command: lendable at once, no batch of its own.
            #expect(idle(backend) == [false])
            let warm = try await job(["echo warm"], on: backend)
            #expect(idle(backend) == [false])
            #expect(warm.stdout == ["warm\n"])
            #expect(warm.lease.agreementId == first.lease.agreementId, "the pool lent the same rental")
            let activity = "/activity-api/v1/activity/\(warm.lease.activityId)"
            // yagna's access log: `"POST /activity-api/v1/activity/<id>/exec HTTP/1.1" 200 …`
            #expect(warm.log.filter { $0.contains("\"POST \(activity)/exec ") }.count == 1, "\(warm.log)")
            #expect(warm.log.filter { $0.contains("\(activity)/state") }.isEmpty, "no state check on the job's path")
            // No new agreement or activity for the warm job. (By identity: the requestor's log is shared
            // with the suites running beside this one, which negotiate and terminate their own.)
            #expect(warm.lease.activityId == first.lease.activityId, "the pool lent the same activity")
        }
    }

    @Test func thePreviousJobsFilesAreGoneForTheNextJob() async throws {
        try await withPool { backend in
            let write = "echo secret > /golem/work/left; echo x > /golem/work/.hidden; mkdir -p /golem/work/d/e; ls -A /golem/work"
            // Last step a `run`: its own batch cleans up after it.
            let first = try await job([write], on: backend)
            #expect(first.stdout == [".hidden\nd\nleft\n"])
            let second = try await job(["ls -A /golem/work; echo end"], on: backend)
            #expect(second.lease.agreementId == first.lease.agreementId)
            #expect(second.stdout == ["end\n"], "the work folder was emptied by the first job's batch")
            // Last step an upload: the pool cleans up in a batch of its own, before lending it again.
            let third = try await job(steps: [.run(RunStep(.shell(write))), .uploadData(to: "/golem/work/up", bytes: Array("up".utf8))], on: backend)
            #expect(third.lease.agreementId == first.lease.agreementId)
            try await untilCleaned(backend)
            let fourth = try await job(["ls -A /golem/work; echo end"], on: backend)
            #expect(fourth.lease.agreementId == first.lease.agreementId)
            #expect(fourth.stdout == ["end\n"], "the work folder was emptied after the third job")
        }
    }

    @Test func aFolderTheJobMadeReadOnlyIsEmptiedBeforeTheNextJob() async throws {
        try await withPool { backend in
            // `rm -rf` alone cannot empty a folder without write permission (the job's uid is not root),
            // and the cleanup used to hide that: the next job on the rental saw `kept`.
            let first = try await job(["mkdir -p /golem/work/kept && echo secret > /golem/work/kept/f && chmod 500 /golem/work/kept"], on: backend)
            let second = try await job(["ls -A /golem/work; echo end"], on: backend)
            #expect(second.stdout == ["end\n"], "the next job never sees the previous job's files")
            #expect(second.lease.agreementId == first.lease.agreementId, "emptied, so lent again")
        }
    }

    @Test func aRentalWhoseActivityWasDestroyedBetweenJobsIsNotUsedAndTheJobStillSucceeds() async throws {
        try await withPool { backend in
            let first = try await job(["echo first"], on: backend)
            try await untilCleaned(backend)
            try await requestor.destroyActivity(first.lease.activityId, timeout: .seconds(10))
            let next = try await job(["echo still fine"], on: backend)
            #expect(next.stdout == ["still fine\n"])
            #expect(next.lease.agreementId != first.lease.agreementId, "the job moved to a new rental")
            let activity = "/activity-api/v1/activity/\(first.lease.activityId)"
            #expect(next.log.filter { $0.contains("\"POST \(activity)/exec ") }.count == 1, "one refused batch on the dead activity")
            // The dead rental was ended: its agreement is terminated.
            let deadline = ContinuousClock.now + .seconds(30)
            while try await requestor.agreement(first.lease.agreementId).state == "Approved", ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(try await requestor.agreement(first.lease.agreementId).state == "Terminated")
        }
    }

    @Test func aRentalWhoseCleanupFailsIsEndedNotReused() async throws {
        try await withPool { backend in
            let log = RequestorLog(net: net)
            // Last step an upload: the cleanup is a batch of its own, after the job.
            let spec = JobSpec(work: [.run(RunStep(.shell("echo one"))), .uploadData(to: "/golem/work/up", bytes: Array("up".utf8))])
            let rental = try #require(try await backend.acquire(jobId: "pool-job", spec: spec, attempt: 1, logger: testLogger) as? GolemRental)
            for (index, step) in spec.work.enumerated() {
                _ = try await rental.run(step, index: index, logger: testLogger)
            }
            let first = rental.lease
            // The activity dies after the job, before its cleanup: the cleanup batch is refused.
            try await requestor.destroyActivity(first.activityId, timeout: .seconds(10))
            await rental.release(healthy: true)
            let deadline = ContinuousClock.now + .seconds(30)
            while backend.poolSize.idle > 0 || backend.rentals.withLock({ $0.leases[first.agreementId] }) != nil {
                guard ContinuousClock.now < deadline else { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(backend.poolSize.idle == 0, "not kept")
            #expect(try log.linesSince().contains { $0.contains("\"POST /activity-api/v1/activity/\(first.activityId)/exec ") })
            let next = try await job(["echo two"], on: backend)
            #expect(next.stdout == ["two\n"])
            #expect(next.lease.agreementId != first.agreementId)
        }
    }
}

/// The requestor node's yagna log (its access log has one line per REST call), read from where it
/// ended when this was made.
struct RequestorLog {
    let path: String
    let offset: UInt64

    init(net: GolemLocal) {
        path = (net.values["GOLEM_LOCAL_REQUESTOR_DATADIR"] ?? "") + "/yagna.log"
        offset = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? UInt64) ?? 0
    }

    func linesSince() throws -> [String] {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seek(toOffset: offset)
        let data = try handle.readToEnd() ?? Data()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }
}

/// Our provider agent (`golem-bridge provider`) on the provider node of the local network, serving
/// one subnet. The binary is `GOLEM_BRIDGE_BIN`, else the one built next to this test bundle.
struct ProviderAgent {
    static var binary: String? {
        if let path = ProcessInfo.processInfo.environment["GOLEM_BRIDGE_BIN"] { return path }
        let built = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("golem-bridge").path
        return FileManager.default.isExecutableFile(atPath: built) ? built : nil
    }

    let process = Process()

    init(net: GolemLocal, subnet: String, directory: String, arguments: [String] = []) throws {
        let binary = try #require(Self.binary, "no golem-bridge binary for the provider agent")
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "provider", "--subnet", subnet, "--payment-platform", net.values["GOLEM_LOCAL_PAYMENT_PLATFORM"] ?? "",
            "--work-root", directory + "/provider",
        ] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["GOLEM_LOCAL_PROVIDER_API_URL"] = net.values["GOLEM_LOCAL_PROVIDER_API_URL"]
        environment["GOLEM_LOCAL_PROVIDER_APPKEY"] = net.values["GOLEM_LOCAL_PROVIDER_APPKEY"]
        // The node's bus on the ports this network was started with (GFTP transfers call it).
        environment["GOLEM_LOCAL_PROVIDER_GSB_URL"] = net.values["GOLEM_LOCAL_PROVIDER_GSB_URL"]
        process.environment = environment
        _ = FileManager.default.createFile(atPath: directory + "/provider.log", contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/provider.log"))
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    /// SIGTERM, then waits for the agent to exit (it ends its activities first).
    func stop() async {
        process.terminate()
        let deadline = ContinuousClock.now + .seconds(30)
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
    }
}
