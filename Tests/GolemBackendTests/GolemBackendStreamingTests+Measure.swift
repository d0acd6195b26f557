import Foundation
import GolemJobs
import GolemLocalTestSupport
import Synchronization
import Testing
@testable import GolemBackend

/// What streaming costs on the local network, printed (no assertion on time): a short step with and
/// without `stream`, and how long after `echo` its piece reaches the sink. Runs only with
/// GOLEM_BRIDGE_MEASURE_STREAMING=1, e.g.
/// `GOLEM_BRIDGE_MEASURE_STREAMING=1 swift test --skip-build --filter GolemBackendStreamingMeasure`.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["GOLEM_BRIDGE_MEASURE_STREAMING"] == "1" && GolemLocal.providerCount > 0))
struct GolemBackendStreamingMeasure {
    @Test func streamingCost() async throws {
        let net = try GolemLocal.load()
        let directory = NSTemporaryDirectory() + "golem-sse-measure-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let plain = WorkStep.run(RunStep(.shell("echo x")))
        let streamed = WorkStep.run(RunStep(.shell("echo x"), stream: true))
        let late = WorkStep.run(RunStep(.shell("sleep 1; echo a; sleep 1"), stream: true))
        let subnet = "sse-m-\(UUID().uuidString.prefix(8).lowercased())"
        try await AgentRental.with(net: net, subnet: subnet, directory: directory, spec: JobSpec(work: [plain, plain]), jobId: "measure") { rental in
            func summary(_ times: [Duration]) -> String {
                let sorted = times.sorted()
                return "median \(sorted[sorted.count / 2]), min \(sorted[0]), max \(sorted[sorted.count - 1]) (n=\(sorted.count))"
            }
            let clock = ContinuousClock()
            var plainTimes: [Duration] = [], streamedTimes: [Duration] = [], firstPiece: [Duration] = []
            for _ in 0..<3 { _ = try await rental.run(plain, index: 0, logger: testLogger) }
            for _ in 0..<15 {
                plainTimes.append(try await clock.measure { _ = try await rental.run(plain, index: 0, logger: testLogger) })
                streamedTimes.append(try await clock.measure {
                    _ = try await rental.run(streamed, index: 0, logger: testLogger, output: { _, _, _ in })
                })
            }
            for _ in 0..<5 {
                let start = clock.now
                let arrived = Mutex<ContinuousClock.Instant?>(nil)
                _ = try await rental.run(late, index: 0, logger: testLogger, output: { _, _, _ in
                    arrived.withLock { if $0 == nil { $0 = .now } }
                })
                if let at = arrived.withLock({ $0 }) { firstPiece.append(at - start - .seconds(1)) }
            }
            print("streaming cost: `echo x` plain \(summary(plainTimes)); streamed \(summary(streamedTimes))")
            print("streaming cost: first piece of `sleep 1; echo a` after the echo: \(summary(firstPiece))")
        }
    }
}
