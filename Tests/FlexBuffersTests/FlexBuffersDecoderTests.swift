import FlexBuffers
import Testing

@Suite struct FlexBuffersDecoderTests {
    let decoder = FlexBuffersDecoder()

    @Test("decodes the bytes Google's reference builder wrote", arguments: referenceVectors)
    func decodesReferenceBytes(_ vector: ReferenceVector) throws {
        let value = try decoder.decode(vector.bytes)
        #expect(value == vector.value)
    }

    @Test func readsFloatBitsExactly() throws {
        // 0.1 written as f32 reads back as the f32 value, not as 0.1.
        let vector = try #require(referenceVectors.first { $0.name == "float 0.1 forced to 32 bits" })
        #expect(try decoder.decode(vector.bytes) == .double(Double(Float(0.1))))
        #expect(try decoder.decode([0x00, 0x00, 0xC0, 0x7F, 0x0E, 0x04]).doubleValue?.isNaN == true)
    }

    @Test func keepsMapEntriesInStoredKeyOrder() throws {
        let vector = try #require(referenceVectors.first { $0.name == "map sorted by key bytes" })
        let keys = try decoder.decode(vector.bytes).mapValue?.map(\.key)
        #expect(keys == ["B", "_", "a", "aa", "b"])
    }

    // MARK: Hostile input

    @Test("every prefix of a valid buffer decodes or throws, and never traps", arguments: referenceVectors)
    func prefixes(_ vector: ReferenceVector) {
        for end in 0..<vector.bytes.count {
            let error = decodingError { () throws(FlexBuffersError) in try decoder.decode(Array(vector.bytes[..<end])) }
            if end < 3 { #expect(error?.code == .truncated) }
        }
    }

    @Test("every suffix of a valid buffer decodes or throws, and never traps", arguments: referenceVectors)
    func suffixes(_ vector: ReferenceVector) {
        for start in 1...vector.bytes.count {
            _ = decodingError { () throws(FlexBuffersError) in try decoder.decode(Array(vector.bytes[start...])) }
        }
    }

    @Test("random byte corruption decodes or throws, and never traps", arguments: referenceVectors)
    func corruption(_ vector: ReferenceVector) {
        var generator = SeededGenerator(state: 0x5EED ^ UInt64(vector.bytes.count))
        for _ in 0..<300 {
            var corrupted = vector.bytes
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                corrupted[Int.random(in: 0..<corrupted.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            _ = decodingError { () throws(FlexBuffersError) in try decoder.decode(corrupted) }
        }
    }

    @Test func rejectsRootWidthThatIsNotAPowerOfTwo() {
        let error = decodingError { () throws(FlexBuffersError) in try decoder.decode([0x05, 0x04, 0x03]) }
        #expect(error?.code == .invalidWidth)
        #expect(error?.offset == 2)
    }

    @Test func rejectsUnknownType() {
        // Type 27 does not exist.
        let error = decodingError { () throws(FlexBuffersError) in try decoder.decode([0x05, 27 << 2, 0x01]) }
        #expect(error?.code == .invalidType)
    }

    @Test func rejectsRootWiderThanTheBuffer() {
        let error = decodingError { () throws(FlexBuffersError) in try decoder.decode([0x05, 0x04, 0x08]) }
        #expect(error?.code == .truncated)
    }

    @Test func rejectsOffsetBeforeTheStart() {
        // A string whose offset (9) points before byte 0.
        let error = decodingError { () throws(FlexBuffersError) in try decoder.decode([0x09, 0x14, 0x01]) }
        #expect(error?.code == .outOfBounds)
    }

    @Test func rejectsLengthPastTheEnd() {
        // "hi" whose length byte claims 200.
        let error = decodingError { () throws(FlexBuffersError) in
            try decoder.decode([0xC8, 0x68, 0x69, 0x00, 0x03, 0x14, 0x01])
        }
        #expect(error?.code == .outOfBounds)
    }

    @Test func rejectsInvalidUTF8() {
        let error = decodingError { () throws(FlexBuffersError) in
            try decoder.decode([0x02, 0xC3, 0x28, 0x00, 0x03, 0x14, 0x01])
        }
        #expect(error?.code == .invalidString)
    }

    @Test func rejectsKeyWithoutTerminator() {
        // A key used as the root value whose bytes run to the end with no NUL.
        let error = decodingError { () throws(FlexBuffersError) in try decoder.decode([0x6B, 0x01, 0x10, 0x01]) }
        #expect(error?.code == .invalidString)
    }

    @Test func rejectsEightBitFloat() {
        let error = decodingError { () throws(FlexBuffersError) in try decoder.decode([0x01, 0x0C, 0x01]) }
        #expect(error?.code == .invalidWidth)
    }

    @Test func rejectsDuplicateMapKeys() throws {
        // {"a": 1, "a": 2}: both key slots point at the same key.
        let buffer: [UInt8] = [
            0x61, 0x00,  // "a" at 0
            0x02, 0x03, 0x04,  // key vector: length 2, offsets to 0
            0x02, 0x01, 0x02,  // values prefix: key vector offset, key width, length
            0x01, 0x02, 0x04, 0x04,  // values 1, 2 and their types (int)
            0x04, 0x24, 0x01,  // root: offset to the values, map, width 1
        ]
        let error = decodingError { () throws(FlexBuffersError) in try decoder.decode(buffer) }
        #expect(error?.code == .duplicateKey)
    }

    @Test func stopsASelfReferencingVectorAtTheDepthLimit() {
        // A one-element vector whose element is an offset of 0: the vector itself.
        let buffer: [UInt8] = [0x01, 0x00, 0x28, 0x02, 0x28, 0x01]
        let error = decodingError { () throws(FlexBuffersError) in try decoder.decode(buffer) }
        #expect(error?.code == .depthLimitExceeded)
    }

    @Test func stopsDeepNestingAtTheDepthLimit() throws {
        var value: FlexValue = .null
        for _ in 0..<200 { value = .vector([value]) }
        let buffer = try FlexBuffersEncoder(maxDepth: 1000).encode(value)
        let error = decodingError { () throws(FlexBuffersError) in try decoder.decode(buffer) }
        #expect(error?.code == .depthLimitExceeded)
        #expect(try FlexBuffersDecoder(maxDepth: 200).decode(buffer) == value)
    }

    @Test func stopsSharedOffsetsFromMultiplyingTheValue() {
        // 40 levels of a two-element vector whose elements both point at the level below:
        // 2^40 leaves from about 200 bytes.
        var buffer: [UInt8] = [0x00]  // level 0: an empty vector, its data at byte 1
        var below = 1
        for _ in 0..<40 {
            let start = buffer.count
            buffer += [0x02, UInt8(start + 1 - below), UInt8(start + 2 - below), 0x28, 0x28]
            below = start + 1
        }
        buffer += [UInt8(buffer.count - below), 0x28, 0x01]
        let error = decodingError { () throws(FlexBuffersError) in try decoder.decode(buffer) }
        #expect(error?.code == .sizeLimitExceeded)
    }
}
