import FlexBuffers
import Testing

@Suite struct FlexBuffersEncoderTests {
    @Test("writes the same bytes as Google's reference builder", arguments: referenceVectors)
    func matchesReferenceBytes(_ vector: ReferenceVector) throws {
        for typing in vector.reproducedBy {
            let encoded = try FlexBuffersEncoder(vectorTyping: typing, shareKeys: false).encode(vector.value)
            #expect(encoded == vector.bytes, "vectorTyping \(typing)")
        }
    }

    @Test("decode(encode(value)) == value", arguments: referenceVectors)
    func roundTrips(_ vector: ReferenceVector) throws {
        for typing in [FlexBuffersEncoder.VectorTyping.never, .homogeneousScalars] {
            for shareKeys in [true, false] {
                let encoder = FlexBuffersEncoder(vectorTyping: typing, shareKeys: shareKeys)
                #expect(try FlexBuffersDecoder().decode(encoder.encode(vector.value)) == vector.value)
            }
        }
    }

    @Test func choosesTheNarrowestWidths() throws {
        let encoder = FlexBuffersEncoder()
        #expect(try encoder.encode(.int(-1)) == [0xFF, 0x04, 0x01])
        #expect(try encoder.encode(.uint(300)) == [0x2C, 0x01, 0x09, 0x02])
        #expect(try encoder.encode(.double(1.5)) == [0x00, 0x00, 0xC0, 0x3F, 0x0E, 0x04])
        #expect(try encoder.encode(.double(0.1)).count == 10)
    }

    @Test func typesHomogeneousVectorsOnlyWhenAsked() throws {
        // [1, 2, 3]: a fixed-length typed vector of three ints, or an untyped vector.
        #expect(try FlexBuffersEncoder(vectorTyping: .homogeneousScalars).encode([1, 2, 3]) == [0x01, 0x02, 0x03, 0x03, 0x4C, 0x01])
        #expect(try FlexBuffersEncoder(vectorTyping: .never).encode([1, 2, 3]) == [0x03, 0x01, 0x02, 0x03, 0x04, 0x04, 0x04, 0x06, 0x28, 0x01])
        // Mixed int and uint stay untyped.
        #expect(try FlexBuffersEncoder().encode([.int(1), .uint(2)]).suffix(2) == [0x28, 0x01])
    }

    @Test func sharesKeysOnlyWhenAsked() throws {
        let value: FlexValue = [["key": 1], ["key": 2]]
        let shared = try FlexBuffersEncoder(shareKeys: true).encode(value)
        let separate = try FlexBuffersEncoder(shareKeys: false).encode(value)
        #expect(occurrences(of: Array("key".utf8), in: shared) == 1)
        #expect(occurrences(of: Array("key".utf8), in: separate) == 2)
    }

    @Test func rejectsKeyWithNUL() {
        #expect(encodingError(["a\u{0}b": 1])?.code == .invalidKey)
    }

    @Test func rejectsDuplicateKey() {
        #expect(encodingError(.map([("id", 1), ("id", 2)]))?.code == .duplicateKey)
    }

    @Test func rejectsNestingPastTheLimit() {
        let nested: FlexValue = [[[1]]]
        #expect(encodingError(nested, FlexBuffersEncoder(maxDepth: 3)) == nil)
        #expect(encodingError(nested, FlexBuffersEncoder(maxDepth: 2))?.code == .depthLimitExceeded)
    }

    private func encodingError(_ value: FlexValue, _ encoder: FlexBuffersEncoder = FlexBuffersEncoder()) -> FlexBuffersError? {
        do {
            _ = try encoder.encode(value)
            return nil
        } catch {
            return error
        }
    }

    private func occurrences(of needle: [UInt8], in haystack: [UInt8]) -> Int {
        guard haystack.count >= needle.count else { return 0 }
        return (0...haystack.count - needle.count).filter { haystack[$0..<$0 + needle.count].elementsEqual(needle) }.count
    }
}
