import Foundation
import Testing
import Yagna

@Suite struct ExeScriptCommandResultTests {
    /// A batch result as yagna's REST API returns it (chrono writes nanoseconds).
    @Test func decodesYagnasResults() throws {
        let text = """
            [{"index":0,"eventDate":"2026-12-03T06:53:35.123456789Z","result":"Ok","stdout":"hello\\n","stderr":null,"message":null,"isBatchFinished":false},
             {"index":1,"eventDate":"2026-12-03T06:53:36Z","result":"Error","stdout":[255,1],"stderr":"oops\\n",
              "message":"ExeScript command exited with code 3","isBatchFinished":true}]
            """
        let results = try JSONDecoder().decode([ExeScriptCommandResult].self, from: Data(text.utf8))
        #expect(results.count == 2)
        #expect(results[0].result == .ok && !results[0].isError && results[0].stdout == .text("hello\n") && results[0].stderr == nil)
        #expect(results[0].eventDate.timeIntervalSince1970.rounded(.down) == 1_796_280_815)
        #expect(results[1].isError && results[1].isBatchFinished && results[1].stdout == .bytes([255, 1]))
        #expect(results[1].stderr?.string == "oops\n" && results[1].message == "ExeScript command exited with code 3")
    }

    @Test func roundTripsThroughJSON() throws {
        let result = ExeScriptCommandResult(
            index: 2, eventDate: Date(timeIntervalSince1970: 1_796_280_815.5), result: .error, stdout: .bytes([0, 200]),
            stderr: .text("e"), message: "ExeScript command exited with code 1", isBatchFinished: true
        )
        let text = String(decoding: try JSONEncoder().encode(result), as: UTF8.self)
        #expect(text.contains(#""eventDate":"2026-12-03T06:53:35.500Z""#))
        #expect(try JSONDecoder().decode(ExeScriptCommandResult.self, from: Data(text.utf8)) == result)
    }

    @Test func refusesAnEventDateThatIsNotATime() {
        let text = #"{"index":0,"eventDate":"yesterday","result":"Ok","isBatchFinished":true}"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(ExeScriptCommandResult.self, from: Data(text.utf8)) }
    }
}
