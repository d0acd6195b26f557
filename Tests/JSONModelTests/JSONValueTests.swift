import Foundation
import JSONModel
import Testing

@Suite struct JSONParserTests {
    func text(_ value: JSONValue) -> String { String(decoding: value.encoded(), as: UTF8.self) }

    @Test func parsesEveryKindInOrder() throws {
        let value = try JSONValue.parse(#" {"b":[1,-0.5,2e10,"x",true,false,null],"a":{}} "#)
        #expect(value == .object([
            JSONMember("b", .array([.number("1"), .number("-0.5"), .number("2e10"), .string("x"), .bool(true), .bool(false), .null])),
            JSONMember("a", .object([])),
        ]))
    }

    @Test func duplicateMemberNamesAreRefused() {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(#"{"a":1,"a":2}"#) }
        #expect(throws: JSONParseError.self) { try JSONValue.parse(#"[{"k":{"x":1,"x":1}}]"#) }
        #expect((try? JSONValue.parse(#"{"a":{"a":1}}"#)) != nil, "the same name at two levels is fine")
    }

    @Test func textThatIsNotJSONIsRefused() {
        let bad = [
            "", " ", "{", "[1,", "[1,]", #"{"a" 1}"#, #"{"a":1,}"#, "tru", "nul", "01", "1.", ".5", "-", "1e", "+1",
            "[1] x", "\"tab\tin string\"", #""\x""#, #""\u12""#, "'single'", "NaN", "Infinity",
        ]
        for text in bad {
            #expect(throws: JSONParseError.self, "\(text.debugDescription)") { try JSONValue.parse(text) }
        }
    }

    @Test func loneSurrogatesAreRefusedAndPairsRead() throws {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(#"["\ud800"]"#) }
        #expect(throws: JSONParseError.self) { try JSONValue.parse(#"["\udc00"]"#) }
        #expect(throws: JSONParseError.self) { try JSONValue.parse(#"["\ud800\u0041"]"#) }
        #expect(try JSONValue.parse(#"["\ud83d\ude00\u00e9\n\/"]"#) == .array([.string("😀é\n/")]))
    }

    @Test func invalidUTF8IsRefused() {
        #expect(throws: JSONParseError.notUTF8) { try JSONValue.parse([0x22, 0xFF, 0x22]) }
    }

    @Test func nestingBeyondTheLimitIsRefusedWithoutDeepRecursion() throws {
        #expect(try JSONValue.parse("[[[1]]]", maxDepth: 3) == .array([.array([.array([.number("1")])])]))
        #expect(throws: JSONParseError.tooDeep(3)) { try JSONValue.parse("[[[[1]]]]", maxDepth: 3) }
        #expect(throws: JSONParseError.tooDeep(64)) {
            try JSONValue.parse([UInt8](repeating: UInt8(ascii: "["), count: 100_000))
        }
    }

    @Test func numbersKeepTheirLiteralTextThroughParseAndWrite() throws {
        for literal in ["1.10", "12345678901234567890123", "-0", "1E+2", "1e400", "0.1000000000000000055511151231257827"] {
            let value = try JSONValue.parse("[\(literal)]")
            #expect(value == .array([.number(literal)]))
            #expect(text(value) == "[\(literal)]")
        }
    }
}

@Suite struct JSONWriterTests {
    func text(_ value: JSONValue) -> String { String(decoding: value.encoded(), as: UTF8.self) }

    @Test func writesCompactlyInMemberOrder() {
        let value = JSONValue.object([
            JSONMember("z", .int(1)), JSONMember("a", .array([.null, .bool(true), .string("s")])), JSONMember("m", .object([])),
        ])
        #expect(text(value) == #"{"z":1,"a":[null,true,"s"],"m":{}}"#)
    }

    @Test func escapesOnlyWhatJSONRequires() {
        #expect(text(.string("a\"b\\c\n\r\t\u{0}\u{1f}/é😀")) == #""a\"b\\c\n\r\t\u0000\u001f/é😀""#)
    }

    @Test func whatItWritesParsesBackEqual() throws {
        let value = JSONValue.object([
            JSONMember("s", .string("\u{1}\"x\"\u{7f}😀")), JSONMember("n", .double(-0.25)), JSONMember("i", .int(-7)),
            JSONMember("a", .array([.object([JSONMember("k", .null)])])),
        ])
        #expect(try JSONValue.parse(value.encoded()) == value)
    }

    @Test func constructorsSayWhichNumberIsMeant() {
        #expect(JSONValue.int(120) == .number("120"))
        #expect(JSONValue.int(UInt64.max) == .number("18446744073709551615"))
        #expect(JSONValue.double(8) == .number("8.0"))
        #expect(JSONValue.double(0.0001) == .number("0.0001"))
        #expect(JSONValue.double(1e-5) == .number("1e-05"))
        #expect(JSONValue.double(.nan) == .null)
        #expect(JSONValue.double(-.infinity) == .null)
        // Every literal .double writes is valid JSON.
        for d in [1e300, -1e-300, 0.1, 123456789.125] {
            #expect((try? JSONValue.parse(JSONValue.double(d).encoded())) == .double(d), "\(d)")
        }
    }
}

@Suite struct JSONReaderTests {
    @Test func readersReturnTheValueOrNil() throws {
        let value = try JSONValue.parse(#"{"s":"x","i":3,"f":3.5,"w":3.0,"e":3e0,"b":false,"a":[1],"o":{"k":1}}"#)
        #expect(value["s"]?.string == "x")
        #expect(value["i"]?.int == 3)
        #expect(value["w"]?.int == 3 && value["e"]?.int == 3)
        #expect(value["f"]?.int == nil)
        #expect(value["f"]?.number == 3.5 && value["i"]?.number == 3)
        #expect(value["b"]?.bool == false)
        #expect(value["a"]?.array == [.number("1")])
        #expect(value["o"]?.object == [JSONMember("k", .number("1"))])
        #expect(value["o"]?.dictionary == ["k": .number("1")])
        #expect(JSONValue.object([JSONMember("k", .int(1)), JSONMember("k", .int(2))]).dictionary == ["k": .int(1)])
        #expect(value["missing"] == nil)
        #expect(value["s"]?.int == nil && value["i"]?.string == nil && value["b"]?.number == nil)
        #expect(JSONValue.array([.null])["s"] == nil)
        #expect(JSONValue.number("1e300").int == nil, "beyond Int")
        #expect(value.typeName == "object" && JSONValue.number("1").typeName == "number")
    }
}

@Suite struct JSONCodableTests {
    func encoded(_ value: JSONValue) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    func decoded(_ text: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    @Test func decodingKeepsIntegersExactAndSortsMembers() throws {
        #expect(try decoded("3") == .int(3))
        #expect(try decoded("9007199254740993") == .int(9_007_199_254_740_993))
        #expect(try decoded("18446744073709551615") == .int(UInt64.max))
        #expect(try decoded("3.5") == .double(3.5))
        #expect(try decoded(#"{"b":[1,2.5,null],"a":{"c":"x","d":false}}"#) == .object([
            JSONMember("a", .object([JSONMember("c", .string("x")), JSONMember("d", .bool(false))])),
            JSONMember("b", .array([.int(1), .double(2.5), .null])),
        ]))
        #expect(try decoded(#""3""#) == .string("3"))
        #expect(try decoded("true") == .bool(true))
    }

    /// yagna reads counts (`interval-sec`, expirations in ms) as integers: a whole number goes out
    /// as one, whichever constructor made it.
    @Test func wholeNumbersAreEncodedAsIntegers() throws {
        #expect(try encoded(.int(120)) == "120")
        #expect(try encoded(.double(120)) == "120")
        #expect(try encoded(.double(-2)) == "-2")
        #expect(try encoded(.double(-0.0)) == "0", "not -0, which serde_json reads as a float")
        #expect(try encoded(.double(1_764_396_000_000)) == "1764396000000")
        #expect(try encoded(.int(9_007_199_254_740_993)) == "9007199254740993")
        #expect(try encoded(.int(UInt64.max)) == "18446744073709551615")
        #expect(try encoded(.double(0.0001)) == "0.0001")
        #expect(try encoded(.double(3.5)) == "3.5")
    }

    @Test func encodingRoundTrips() throws {
        let value = JSONValue.object([
            JSONMember("a", .array([.int(1), .object([JSONMember("k", .string("v"))])])), JSONMember("b", .bool(true)),
            JSONMember("f", .double(0.25)), JSONMember("n", .int(7)), JSONMember("z", .null),
        ])
        #expect(try encoded(value) == #"{"a":[1,{"k":"v"}],"b":true,"f":0.25,"n":7,"z":null}"#)
        #expect(try decoded(encoded(value)) == value)
    }

    @Test func aNumberThatIsNotALiteralIsAnEncodingError() {
        #expect(throws: EncodingError.self) { try encoded(.number("twelve")) }
    }
}
