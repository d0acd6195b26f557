import Foundation
import GolemJobs
import GolemLocalTestSupport
import Testing
import Yagna
@testable import GolemBackend

/// Our provider agent keeps one sandbox per activity, as a provider keeps one VM: the activity's
/// commands run one after another in it, so what one leaves in `/tmp` the next one finds; when the
/// activity ends the sandbox is reset (its processes killed, `/golem/work` and `/tmp` emptied) before
/// another activity gets it. Real yagna 0.17.6 of scripts/golem-local, the agent with one warm sandbox.
@Suite(.serialized, .enabled(if: GolemLocal.providerCount > 0 && ProviderAgent.binary != nil))
struct ProviderAgentSandboxTests {
    let net: GolemLocal
    let subnet = "vm-\(UUID().uuidString.prefix(8).lowercased())"
    let directory: String

    init() throws {
        net = try GolemLocal.load()
        directory = NSTemporaryDirectory() + "golem-vm-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    @Test func anActivitysCommandsShareItsSandboxAndTheNextActivityGetsItReset() async throws {
        try await AgentRental.withBackend(net: net, subnet: subnet, directory: directory, agentArguments: ["--warm-sandboxes", "1"]) { backend in
            let leave = WorkStep.run(RunStep(.shell("echo kept > /tmp/kept; echo w > /golem/work/w")))
            let find = WorkStep.run(RunStep(.shell("cat /tmp/kept /golem/work/w")))
            let first = try #require(try await backend.acquire(jobId: "vm-1", spec: JobSpec(work: [leave, find, find]), attempt: 1, logger: testLogger) as? GolemRental)
            #expect(try await first.run(leave, index: 0, logger: testLogger).exitCode == 0)
            let found = try await first.run(find, index: 1, logger: testLogger)
            #expect(found.exitCode == 0 && found.stdout == "kept\nw\n", "the next command of the activity sees what the last left: \(found.stdout ?? "") \(found.stderr ?? "")")
            // Ended, not given back: the agreement is terminated and the agent destroys the activity.
            await first.release(healthy: false)

            let look = WorkStep.run(RunStep(.shell("find /tmp /golem/work -mindepth 1; cat /tmp/kept")))
            let second = try #require(try await backend.acquire(jobId: "vm-2", spec: JobSpec(work: [look]), attempt: 1, logger: testLogger) as? GolemRental)
            #expect(second.lease.activityId != first.lease.activityId)
            let seen = try await second.run(look, index: 0, logger: testLogger)
            #expect(seen.exitCode != 0, "/tmp/kept of the last activity is gone")
            #expect(seen.stdout == "", "nothing of the last activity in /tmp or /golem/work: \(seen.stdout ?? "")")
            await second.release(healthy: true)
        }
    }
}
