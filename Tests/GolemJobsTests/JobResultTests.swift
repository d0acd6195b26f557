import Testing
@testable import GolemJobs

/// A `run`'s output read as text: exact when it is UTF-8, else the text with U+FFFD and the exact
/// bytes beside it.
@Suite struct JobResultTests {
    @Test func utf8OutputIsExactTextWithNoBytesBesideIt() {
        let step = StepResult.run(index: 0, exitCode: 0, stdout: Array("héllo\0\n".utf8), stderr: [])
        #expect(step.stdout == "héllo\0\n")
        #expect(step.stdoutBytes == nil, "NUL is UTF-8: the text is exact")
        #expect(step.stderr == "" && step.stderrBytes == nil)
    }

    @Test func outputThatIsNotUTF8KeepsItsExactBytes() {
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0xFF]
        let step = StepResult.run(index: 2, exitCode: 1, stdout: png, stderr: [0xC3, 0x28])
        #expect(step.stdoutBytes == png)
        #expect(step.stdout == "\u{FFFD}PNG\r\n\u{1A}\n\0\u{FFFD}")
        #expect(step.stderrBytes == [0xC3, 0x28])
        #expect(step.stderr == "\u{FFFD}(")
        #expect(step.kind == .run && step.exitCode == 1 && step.index == 2)
        let result = JobResult(steps: [step])
        #expect(result.outputBytes == png)
        #expect(result.output == step.stdout)
    }

    /// The output limit may cut a character in two: the cut's half character is dropped, and the
    /// output stays text. Untruncated, the same bytes are the command's own and are kept exactly.
    @Test func aCharacterCutByTheOutputLimitIsDroppedNotTurnedIntoBytes() {
        let euro = Array("a€".utf8)  // 61 E2 82 AC
        for cut in 2...3 {
            let bytes = Array(euro.prefix(cut))
            let truncated = StepResult.run(index: 0, exitCode: 0, stdout: bytes, stderr: [], stdoutTruncated: true)
            #expect(truncated.stdout == "a" && truncated.stdoutBytes == nil && truncated.outputTruncated)
            let whole = StepResult.run(index: 0, exitCode: 0, stdout: bytes, stderr: [])
            #expect(whole.stdoutBytes == bytes)
        }
        let emoji = Array("😀".utf8)  // F0 9F 98 80
        let cutEmoji = CapturedText(Array(emoji.prefix(3)), truncated: true)
        #expect(cutEmoji.text == "" && cutEmoji.bytes == nil)
        // Invalid before the cut: still bytes, whatever the truncation.
        let broken: [UInt8] = [0xFF, 0x41, 0xE2, 0x82]
        #expect(CapturedText(broken, truncated: true).bytes == broken)
        // A lone continuation byte at the end is no cut character.
        #expect(CapturedText([0x41, 0x80], truncated: true).bytes == [0x41, 0x80])
    }

    @Test func theIncompleteTailIsFoundOnlyWhereALeadByteAnnouncesMore() {
        #expect(CapturedText.incompleteTail(of: [0x41, 0xE2, 0x82]) == 1)
        #expect(CapturedText.incompleteTail(of: [0x41, 0xC3]) == 1)
        #expect(CapturedText.incompleteTail(of: [0xF0, 0x9F, 0x98]) == 0)
        #expect(CapturedText.incompleteTail(of: [0x41, 0xE2, 0x82, 0xAC]) == nil, "complete")
        #expect(CapturedText.incompleteTail(of: [0x41]) == nil)
        #expect(CapturedText.incompleteTail(of: []) == nil)
        #expect(CapturedText.incompleteTail(of: [0x80, 0x80, 0x80]) == nil)
    }
}
