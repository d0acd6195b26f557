import Testing
import Yagna
@testable import LocalProvider

@Suite struct CaptureCutTests {
    typealias Capture = ExeScriptCommand.Capture

    @Test func captureCutsHeadTailAndBoth() {
        let bytes: [UInt8] = Array("abcdefgh".utf8)
        #expect(Capture.Part.head(3).cut(bytes) == Array("abc".utf8))
        #expect(Capture.Part.tail(3).cut(bytes) == Array("fgh".utf8))
        #expect(Capture.Part.headTail(4).cut(bytes) == Array("abgh".utf8))
        #expect(Capture.Part.headTail(20).cut(bytes) == bytes)
        #expect(Capture.Part.head(.max).cut(bytes) == bytes, "a count beyond Int keeps everything instead of trapping")
        #expect(Capture.Part.headTail(.max).cut(bytes) == bytes)
    }

    /// The exe-unit keeps a streamed output's first `limit` bytes for the result (all without one).
    @Test func aStreamsResultKeepsItsFirstLimitBytes() {
        let result = ExeScriptCommandResult.run(
            index: 0, exitCode: 0, stdout: Array("abcdef".utf8), stderr: [1, 2],
            capture: Capture(stdout: .stream(limit: 2), stderr: .stream(format: .bin))
        )
        #expect(result.stdout == .text("ab") && result.stderr == .bytes([1, 2]))
    }
}
