import Foundation
import GolemJobs
import GolemLocalTestSupport
import Synchronization
import Testing
import Yagna
@testable import GolemBackend

/// Streamed run output on Golem: real yagna 0.17.6 of scripts/golem-local between the backend and our
/// provider agent, which answers yagna's StreamExecBatchResults. A `run` step with `stream` set tells
/// its sink the output as the command writes it; the step's result still has all of it.
@Suite(.serialized, .enabled(if: GolemLocal.providerCount > 0 && ProviderAgent.binary != nil))
struct GolemBackendStreamingTests {
    let net: GolemLocal
    let subnet = "sse-\(UUID().uuidString.prefix(8).lowercased())"
    let directory: String

    /// `a`, then `b` two seconds later. yagna does not replay what the exe-unit reported before the
    /// event stream reached it, so the first line waits a second for the bridge to subscribe (the
    /// stream opens right after the exec call returns).
    static let twoLines = RunStep(.shell("sleep 1; echo a; sleep 2; echo b"), stream: true)

    init() throws {
        net = try GolemLocal.load()
        directory = NSTemporaryDirectory() + "golem-sse-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// What a sink was told, and whether the step had returned by then.
    final class Recorder: Sendable {
        struct Call: Sendable {
            var stream: StepOutput.Stream
            var text: String
            var cut: Bool
            var afterTheStep: Bool
        }

        private let state = Mutex<(calls: [Call], ended: Bool)>(([], false))
        var calls: [Call] { state.withLock { $0.calls } }
        func stepEnded() { state.withLock { $0.ended = true } }

        var sink: StepOutputSink {
            { [self] stream, bytes, cut in
                state.withLock { $0.calls.append(Call(stream: stream, text: String(decoding: bytes, as: UTF8.self), cut: cut, afterTheStep: $0.ended)) }
            }
        }
    }

    /// A rental from our agent on this test's subnet; everything is stopped after `body`.
    func withRental(_ spec: JobSpec, _ body: (GolemRental) async throws -> Void) async throws {
        try await AgentRental.with(net: net, subnet: subnet, directory: directory, spec: spec, jobId: "sse-job", body)
    }

    @Test func aStreamingRunDeliversItsFirstLineBeforeItsSecondAndTheResultKeepsBoth() async throws {
        let step = WorkStep.run(Self.twoLines)
        let quiet = WorkStep.run(RunStep(.shell("echo a; echo b")))
        try await withRental(JobSpec(work: [step, quiet])) { rental in
            let recorder = Recorder()
            let result = try await rental.run(step, index: 0, logger: testLogger, output: recorder.sink)
            recorder.stepEnded()
            #expect(result.exitCode == 0)
            #expect(result.stdout == "a\nb\n", "the result keeps the whole output")
            #expect(result.outputTruncated == false)
            let stdout = recorder.calls.filter { $0.stream == .stdout }
            // "a" reached the sink on its own: it was streamed before "b" was even written.
            #expect(stdout.first?.text == "a\n", "\(recorder.calls)")
            #expect(stdout.map(\.text).joined() == "a\nb\n")
            #expect(recorder.calls.allSatisfy { !$0.afterTheStep && !$0.cut })

            // Without `stream` the sink is told nothing: the run captures at its end, as always.
            let silent = Recorder()
            let plain = try await rental.run(quiet, index: 1, logger: testLogger, output: silent.sink)
            #expect(plain.stdout == "a\nb\n")
            #expect(silent.calls.isEmpty, "\(silent.calls)")
        }
    }
}
