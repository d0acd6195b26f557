import Testing
import Yagna
@testable import LocalProvider

@Suite struct BatchResultsTests {
    @Test func lastResultFinishesTheBatch() {
        var batch = BatchResults(commandCount: 2)
        batch.append(ExeScriptCommandResult.ok(0))
        #expect(!batch.isFinished && !batch.results[0].isBatchFinished)
        #expect(batch.isReady(for: 0) && !batch.isReady(for: nil))
        batch.append(ExeScriptCommandResult.ok(1))
        #expect(batch.isFinished && batch.results[1].isBatchFinished && batch.isReady(for: nil))
    }

    @Test func firstFailureStopsTheBatch() {
        var batch = BatchResults(commandCount: 3)
        batch.append(ExeScriptCommandResult.run(index: 0, exitCode: 3, stdout: [], stderr: Array("oops\n".utf8), capture: .whole))
        batch.append(ExeScriptCommandResult.ok(1))
        #expect(batch.results.count == 1)
        #expect(batch.results[0].isBatchFinished && batch.results[0].isError)
        #expect(batch.results[0].message == "ExeScript command exited with code 3")
        #expect(batch.results[0].stderr == .text("oops\n"))
        #expect(batch.isReady(for: 2), "a finished batch answers any index at once")
    }

    @Test func answerHonoursCommandIndex() {
        var batch = BatchResults(commandCount: 3)
        batch.append(ExeScriptCommandResult.ok(0))
        batch.append(ExeScriptCommandResult.ok(1))
        #expect(batch.answer(for: 0).map(\.index) == [0])
        #expect(batch.answer(for: nil).map(\.index) == [0, 1])
    }

    @Test func interruptMarksTheRunningCommandFailed() {
        var batch = BatchResults(commandCount: 2)
        batch.append(ExeScriptCommandResult.ok(0))
        batch.interrupt(message: "activity destroyed")
        #expect(batch.isFinished && batch.results.count == 2 && batch.results[1].isError && batch.results[1].isBatchFinished)
    }

    @Test func runResultShapesOutputAsStrings() {
        let ok = ExeScriptCommandResult.run(index: 0, exitCode: 0, stdout: Array("hello\n".utf8), stderr: [], capture: .whole)
        #expect(!ok.isError && ok.stdout == .text("hello\n") && ok.stderr == .text("") && ok.message == nil)
        let binary = ExeScriptCommandResult.run(index: 0, exitCode: 0, stdout: [0xff, 1], stderr: [], capture: ExeScriptCommand.Capture(stdout: .atEnd(format: .bin)))
        #expect(binary.stdout == .bytes([0xff, 1]) && binary.stderr == nil)
    }
}
