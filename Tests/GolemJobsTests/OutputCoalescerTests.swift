import GolemJobs
import Testing

@Suite struct OutputCoalescerTests {
    private func bytes(_ text: String) -> ArraySlice<UInt8> { Array(text.utf8)[...] }

    @Test func readsOfOneStreamMergeAndStreamsKeepTheirOrder() {
        var c = OutputCoalescer(step: 2)
        c.append(.stdout, bytes("a"))
        c.append(.stdout, bytes("b\n"))
        c.append(.stderr, bytes("oops\n"))
        c.append(.stdout, bytes("c\n"))
        #expect(c.pendingBytes == 10)
        #expect(c.take() == [
            StepOutput(step: 2, stream: .stdout, text: "ab\n"),
            StepOutput(step: 2, stream: .stderr, text: "oops\n"),
            StepOutput(step: 2, stream: .stdout, text: "c\n"),
        ])
        #expect(c.take().isEmpty && c.pendingBytes == 0)
    }

    @Test func aCharacterSplitBetweenReadsWaitsForItsRest() {
        var c = OutputCoalescer(step: 0)
        let euro = Array("x€".utf8) // 78 E2 82 AC
        c.append(.stdout, euro[0..<2])
        #expect(c.take() == [StepOutput(step: 0, stream: .stdout, text: "x")])
        c.append(.stdout, euro[2..<3])
        #expect(c.take().isEmpty)
        c.append(.stdout, euro[3...])
        #expect(c.take() == [StepOutput(step: 0, stream: .stdout, text: "€")])
    }

    @Test func theLastTakeGivesAnIncompleteCharacterAsAReplacement() {
        var c = OutputCoalescer(step: 0)
        c.append(.stderr, ArraySlice<UInt8>([0x41, 0xF0, 0x9F]))
        #expect(c.take() == [StepOutput(step: 0, stream: .stderr, text: "A")])
        #expect(c.take(final: true) == [StepOutput(step: 0, stream: .stderr, text: "\u{FFFD}")])
    }

    @Test func piecesAreAtMostMaxPieceBytesAndSplitOnCharacters() {
        var c = OutputCoalescer(step: 0, maxPiece: 4)
        c.append(.stdout, bytes("abc€def"))
        let pieces = c.take()
        #expect(pieces.map(\.text) == ["abc", "€d", "ef"])
        #expect(pieces.allSatisfy { $0.text.utf8.count <= 4 })
    }

    @Test func aCutStreamEndsWithOneTruncatedPieceAndTakesNoMore() {
        var c = OutputCoalescer(step: 1)
        c.append(.stdout, bytes("12"), cut: true)
        c.append(.stdout, bytes("34"))
        c.append(.stderr, bytes("e"))
        #expect(c.take() == [
            StepOutput(step: 1, stream: .stdout, text: "12", truncated: true),
            StepOutput(step: 1, stream: .stderr, text: "e"),
        ])
        c.append(.stdout, bytes("56"))
        #expect(c.take().isEmpty)
    }

    @Test func aCutWithNothingNewIsANoteOfItsOwn() {
        var c = OutputCoalescer(step: 1)
        c.append(.stdout, bytes("full"))
        #expect(c.take().count == 1)
        c.append(.stdout, ArraySlice<UInt8>(), cut: true)
        #expect(c.take() == [StepOutput(step: 1, stream: .stdout, text: "", truncated: true)])
    }
}
