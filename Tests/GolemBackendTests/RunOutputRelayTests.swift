import Foundation
import GolemJobs
import Synchronization
import Testing
import Yagna
@testable import GolemBackend

@Suite struct RunOutputRelayTests {
    typealias Piece = RunOutputRelay.Piece

    func event(_ index: Int, _ kind: RuntimeEvent.Kind) -> RuntimeEvent {
        RuntimeEvent(batchId: "b", index: index, kind: kind)
    }

    @Test func onlyTheWatchedCommandsOutputPasses() {
        var relay = RunOutputRelay(index: 1, limit: 100)
        #expect(relay.take(event(0, .stdout(.text("other")))) == nil)
        #expect(relay.take(event(2, .stderr(.bytes([1])))) == nil)
        #expect(relay.take(event(1, .started(command: nil))) == nil)
        #expect(relay.take(event(1, .stdout(.bytes([0, 255])))) == Piece(stream: .stdout, bytes: [0, 255], cut: false))
        #expect(relay.take(event(1, .stderr(.text("é")))) == Piece(stream: .stderr, bytes: ArraySlice("é".utf8), cut: false))
        #expect(relay.take(event(1, .progress(.null))) == nil)
        #expect(relay.take(event(1, .unknown("new"))) == nil)
        #expect(!relay.finished)
        #expect(relay.take(event(0, .finished(returnCode: 0, message: nil))) == nil)
        #expect(!relay.finished, "another command's end")
        #expect(relay.take(event(1, .finished(returnCode: 1, message: "x"))) == nil)
        #expect(relay.finished)
    }

    @Test func eachStreamStopsAtTheLimitWithOneCut() {
        var relay = RunOutputRelay(index: 0, limit: 5)
        #expect(relay.take(event(0, .stdout(.text("abc")))) == Piece(stream: .stdout, bytes: ArraySlice("abc".utf8), cut: false))
        #expect(relay.take(event(0, .stdout(.text("defg")))) == Piece(stream: .stdout, bytes: ArraySlice("de".utf8), cut: true))
        #expect(relay.take(event(0, .stdout(.text("h")))) == nil, "nothing after the cut")
        #expect(relay.take(event(0, .stderr(.text("1234")))) == Piece(stream: .stderr, bytes: ArraySlice("1234".utf8), cut: false),
                "stderr has its own bound")
        #expect(relay.take(event(0, .stderr(.text("5")))) == Piece(stream: .stderr, bytes: ArraySlice("5".utf8), cut: true),
                "reaching the limit is the cut: the provider keeps no more")
        #expect(relay.take(event(0, .stderr(.text("6")))) == nil)
    }

    @Test func emptyOutputIsNoPiece() {
        var relay = RunOutputRelay(index: 0, limit: 5)
        #expect(relay.take(event(0, .stdout(.text("")))) == nil)
        #expect(relay.take(event(0, .stdout(.bytes([])))) == nil)
    }
}

/// The stream's failures are the relay's answer, never an error of the step: here yagna never answers.
@Suite struct GolemBackendRelayOutputTests {
    @Test func aStreamThatCannotBeOpenedIsACauseToLogNotAFailure() async throws {
        let directory = NSTemporaryDirectory() + "golem-relay-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let configuration = GolemBackendConfiguration(
            yagna: YagnaConfiguration(apiURL: "http://127.0.0.1:1", appKey: "unused", requestTimeout: .seconds(1)),
            statePath: directory + "/state.sqlite"
        )
        let backend = GolemBackend(configuration: configuration, store: try SQLiteRentalStore(path: configuration.statePath), logger: testLogger)
        let told = Mutex(0)
        let watch = OutputWatch(index: 0, limit: 100, sink: { _, _, _ in told.withLock { $0 += 1 } }, logger: testLogger)
        let cause = await backend.relayOutput(watch, activityId: "a", batchId: "b")
        #expect(cause?.contains("yagna unreachable") == true, "\(cause ?? "nil")")
        #expect(told.withLock { $0 } == 0)
        #expect(!watch.heard)
    }
}
