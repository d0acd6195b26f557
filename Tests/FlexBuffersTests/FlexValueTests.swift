import FlexBuffers
import Testing

@Suite struct FlexValueTests {
    let reply: FlexValue = [
        "id": "req-1",
        "payload": ["index": .uint(3), "ok": true, "ratio": 0.5, "note": nil, "bytes": .blob([1, 2])],
    ]

    @Test func readsThroughSubscriptsAndAccessors() {
        #expect(reply["id"]?.stringValue == "req-1")
        #expect(reply["payload"]?["index"]?.intValue == 3)
        #expect(reply["payload"]?["index"]?.uintValue == 3)
        #expect(reply["payload"]?["ok"]?.boolValue == true)
        #expect(reply["payload"]?["ratio"]?.doubleValue == 0.5)
        #expect(reply["payload"]?["note"]?.isNull == true)
        #expect(reply["payload"]?["bytes"]?.bytesValue == [1, 2])
        #expect(reply["missing"] == nil)
        #expect(reply["id"]?["nested"] == nil)
    }

    @Test func convertsIntegersOnlyWhenTheyFit() {
        #expect(FlexValue.int(-1).uintValue == nil)
        #expect(FlexValue.uint(.max).intValue == nil)
        #expect(FlexValue.int(-1).intValue == -1)
        #expect(FlexValue.int(7).doubleValue == 7)
        #expect(FlexValue.string("7").intValue == nil)
    }

    @Test func readsByteVectorsAsBytes() {
        #expect(FlexValue.vector([.uint(1), .int(255)]).bytesValue == [1, 255])
        #expect(FlexValue.vector([.uint(256)]).bytesValue == nil)
        #expect(FlexValue.vector([.string("a")]).bytesValue == nil)
    }

    @Test func indexesVectors() {
        let vector: FlexValue = ["a", 1]
        #expect(vector[0] == "a")
        #expect(vector[1] == 1)
        #expect(vector[2] == nil)
        #expect(vector[-1] == nil)
    }

    @Test func comparesMapsRegardlessOfEntryOrder() {
        let ab: FlexValue = ["a": 1, "b": 2]
        let ba: FlexValue = ["b": 2, "a": 1]
        #expect(ab == ba)
        #expect(ab.hashValue == ba.hashValue)
        #expect(ab != ["a": 1, "b": 3])
        #expect(ab != ["a": 1])
        #expect(FlexValue.int(1) != .uint(1))
    }

    @Test func describesItselfAsJSONLikeText() {
        let value: FlexValue = ["s": "a\"b\n", "v": [1, .uint(2), 1.5, nil, true], "b": .blob([0x0A, 0xFF])]
        #expect(value.description == #"{"s": "a\"b\n", "v": [1, 2, 1.5, null, true], "b": blob(0aff)}"#)
    }
}
