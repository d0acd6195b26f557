import Testing
import Yagna

@Suite struct ServerSentEventParserTests {
    func events(_ chunks: [String], maxEventBytes: Int = 1 << 20) throws -> [ServerSentEvent] {
        var parser = ServerSentEventParser(maxEventBytes: maxEventBytes)
        return try chunks.flatMap { try parser.feed(Array($0.utf8)) }
    }

    @Test func yagnasRuntimeEventsAndPingsAreRead() throws {
        let body = ":ping\nevent: runtime\ndata: {\"index\":0}\nid: 1\n\n:ping\n\nevent: runtime\ndata: {\"index\":1}\nid: 2\n\n"
        #expect(try events([body]) == [
            ServerSentEvent(event: "runtime", data: #"{"index":0}"#, id: "1"),
            ServerSentEvent(event: "runtime", data: #"{"index":1}"#, id: "2"),
        ])
    }

    @Test func linesEndWithLFCRLFOrCRAndACRLFSplitAcrossChunksCountsOnce() throws {
        let expected = [ServerSentEvent(data: "a"), ServerSentEvent(data: "b"), ServerSentEvent(data: "c")]
        #expect(try events(["data: a\r\n\r\ndata: b\r\rdata: c\n\n"]) == expected)
        // The CR ends the line at once; the LF that follows in the next chunk is not a blank line.
        #expect(try events(["data: a\r", "\n", "\r", "\ndata: b\r\n\r\ndata: c\r", "\n\n"]) == expected)
        #expect(try events(["da", "ta", ": ", "a", "\n", "\n"]) == [ServerSentEvent(data: "a")])
    }

    @Test func dataLinesAreJoinedWithNewlinesAndOneSpaceAfterTheColonIsDropped() throws {
        #expect(try events(["data: one\ndata:two\ndata:  three\ndata\n\n"]) == [ServerSentEvent(data: "one\ntwo\n three\n")])
    }

    @Test func commentsUnknownFieldsAndEventsWithoutDataDispatchNothing() throws {
        #expect(try events([": comment\nretry: 10\nfoo: bar\n\nevent: runtime\n\n"]).isEmpty)
        // The event name of an event without data does not carry over; the id does.
        #expect(try events(["event: x\nid: 7\n\ndata: d\n\n"]) == [ServerSentEvent(data: "d", id: "7")])
    }

    @Test func nothingIsDispatchedBeforeTheBlankLine() throws {
        var parser = ServerSentEventParser()
        #expect(try parser.feed(Array("event: runtime\ndata: x\n".utf8)).isEmpty)
        #expect(try parser.feed(Array("\n".utf8)) == [ServerSentEvent(event: "runtime", data: "x")])
    }

    @Test func anEventOverTheBoundIsRefusedWithItsLimit() throws {
        let error = #expect(throws: ServerSentEventsError.self) { try events(["data: 12345\ndata: 67890\n"], maxEventBytes: 12) }
        #expect(error?.description == "an event of the stream is larger than 12 bytes")
        // A line without its end counts too: a server that never sends a newline cannot grow us.
        #expect(throws: ServerSentEventsError.self) { try events([String(repeating: "x", count: 13)], maxEventBytes: 12) }
        #expect(try events(["data: 1234\n\ndata: 5678\n\n"], maxEventBytes: 12).count == 2, "the bound is per event")
    }
}
