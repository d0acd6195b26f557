import FlexBuffers
import Foundation
import Testing

@Suite struct FlexValueCodableTests {
    struct BatchResult: Codable, Equatable {
        var index: Int
        var stdout: String?
        var isBatchFinished: Bool
        var timeout: Double
    }

    @Test func bridgesCodableTypesThroughJSON() throws {
        let result = BatchResult(index: 3, stdout: nil, isBatchFinished: true, timeout: 2.5)
        let value = try JSONDecoder().decode(FlexValue.self, from: JSONEncoder().encode(result))
        // Synthesized Codable leaves out nil optionals; serde reads a missing Option field as None.
        #expect(value == ["index": 3, "isBatchFinished": true, "timeout": 2.5])

        let buffer = try FlexBuffersEncoder().encode(value)
        let decoded = try FlexBuffersDecoder().decode(buffer)
        #expect(try JSONDecoder().decode(BatchResult.self, from: JSONEncoder().encode(decoded)) == result)
    }

    @Test func keepsUnsignedAndNestedValues() throws {
        let value: FlexValue = ["big": .uint(.max), "list": [1, "a", [nil]], "map": ["k": -1.5]]
        let json = try JSONEncoder().encode(value)
        #expect(try JSONDecoder().decode(FlexValue.self, from: json) == value)
    }

    @Test func writesBlobsAsByteArrays() throws {
        let json = try JSONEncoder().encode(FlexValue.blob([1, 255]))
        let back = try JSONDecoder().decode(FlexValue.self, from: json)
        #expect(back == [1, 255])
        #expect(back.bytesValue == [1, 255])
    }
}
