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

    /// `a` (and `e` on stderr), then `b` two seconds later. yagna does not replay what the exe-unit reported before the
    /// event stream reached it, so the first line waits a second for the bridge to subscribe (the
    /// stream opens right after the exec call returns).
    static let twoLines = RunStep(.shell("sleep 1; echo a; echo e >&2; sleep 2; echo b"), stream: true)

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
    func withRental(
        _ spec: JobSpec, adjust: (inout GolemBackendConfiguration) -> Void = { _ in }, _ body: (GolemRental) async throws -> Void
    ) async throws {
        try await AgentRental.with(net: net, subnet: subnet, directory: directory, spec: spec, jobId: "sse-job", adjust: adjust, body)
    }

    /// The streaming step is the job's last: its batch also empties the work folder (a second command,
    /// whose events are not the step's output).
    @Test func aStreamingRunDeliversItsFirstLineBeforeItsSecondAndTheResultKeepsBoth() async throws {
        let first = WorkStep.run(RunStep(.shell("true")))
        let step = WorkStep.run(Self.twoLines)
        try await withRental(JobSpec(work: [first, step])) { rental in
            _ = try await rental.run(first, index: 0, logger: testLogger)
            let recorder = Recorder()
            let result = try await rental.run(step, index: 1, logger: testLogger, output: recorder.sink)
            recorder.stepEnded()
            #expect(result.exitCode == 0)
            #expect(result.stdout == "a\nb\n", "the result keeps the whole output")
            #expect(result.stderr == "e\n")
            #expect(result.outputTruncated == false)
            let stdout = recorder.calls.filter { $0.stream == .stdout }
            // "a" reached the sink on its own: it was streamed before "b" was even written.
            #expect(stdout.first?.text == "a\n", "\(recorder.calls)")
            #expect(stdout.map(\.text).joined() == "a\nb\n")
            #expect(recorder.calls.filter { $0.stream == .stderr }.map(\.text).joined() == "e\n")
            #expect(recorder.calls.allSatisfy { !$0.afterTheStep && !$0.cut })
        }
    }

    /// The sink given for a step without `stream` is told nothing: the run captures at its end, as always.
    @Test func aRunWithoutStreamDeliversNoPieces() async throws {
        let step = WorkStep.run(RunStep(.shell("echo a; sleep 1; echo b")))
        try await withRental(JobSpec(work: [step])) { rental in
            let silent = Recorder()
            let result = try await rental.run(step, index: 0, logger: testLogger, output: silent.sink)
            #expect(result.stdout == "a\nb\n")
            #expect(silent.calls.isEmpty, "\(silent.calls)")
        }
    }

    /// Past the output limit a stream's pieces stop with one cut, and the provider keeps no more for
    /// the result, which is marked truncated.
    @Test func aStreamingRunStopsAtTheOutputLimitWithOneCut() async throws {
        let step = WorkStep.run(RunStep(.shell("sleep 1; printf abcdefgh; printf 12 >&2"), stream: true))
        try await withRental(JobSpec(work: [step]), adjust: { $0.outputLimit = 4 }) { rental in
            let recorder = Recorder()
            let result = try await rental.run(step, index: 0, logger: testLogger, output: recorder.sink)
            #expect(result.stdout == "abcd")
            #expect(result.stderr == "12")
            #expect(result.outputTruncated)
            let stdout = recorder.calls.filter { $0.stream == .stdout }
            #expect(stdout.map(\.text).joined() == "abcd", "\(recorder.calls)")
            #expect(stdout.filter(\.cut).count == 1)
            #expect(recorder.calls.filter { $0.stream == .stderr && $0.cut }.isEmpty)
        }
    }
}
