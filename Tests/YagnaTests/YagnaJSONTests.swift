import Foundation
import Testing
import Yagna

@Suite struct YagnaJSONTests {
    func encoded(_ value: YagnaJSON) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    @Test func integersDecodeAsIntAndFractionsAsDouble() throws {
        #expect(try YagnaJSON.parse("3") == .int(3))
        #expect(try YagnaJSON.parse("-42") == .int(-42))
        #expect(try YagnaJSON.parse("3.5") == .double(3.5))
        // Above 2^53 a Double would round; the integer comes back exactly.
        #expect(try YagnaJSON.parse("9007199254740993") == .int(9_007_199_254_740_993))
        // Beyond Int64 the number is still a number.
        #expect(try YagnaJSON.parse("18446744073709551616") == .double(18_446_744_073_709_551_616))
    }

    @Test func boolsNullsAndStringsAreNotNumbers() throws {
        #expect(try YagnaJSON.parse("true") == .bool(true))
        #expect(try YagnaJSON.parse("false") == .bool(false))
        #expect(try YagnaJSON.parse("1") == .int(1))
        #expect(try YagnaJSON.parse("null") == .null)
        #expect(try YagnaJSON.parse(#""3""#) == .string("3"))
    }

    @Test func nestedValuesDecode() throws {
        let value = try YagnaJSON.parse(#"{"a":[1,2.5,{"b":null}],"c":{"d":"x","e":false}}"#)
        #expect(value == .object([
            "a": .array([.int(1), .double(2.5), .object(["b": .null])]),
            "c": .object(["d": .string("x"), "e": .bool(false)]),
        ]))
    }

    @Test func numberReadsIntegersAndFloatsAsDouble() {
        #expect(YagnaJSON.int(3).number == 3.0)
        #expect(YagnaJSON.double(3.5).number == 3.5)
        #expect(YagnaJSON.string("3").number == nil)
        #expect(YagnaJSON.bool(true).number == nil)
        #expect(YagnaJSON.null.number == nil)
    }

    @Test func wholeNumbersAreWrittenAsIntegers() throws {
        #expect(try encoded(.int(120)) == "120")
        #expect(try encoded(.double(120)) == "120")
        #expect(try encoded(.double(-2)) == "-2")
        // Foundation writes "-0", which serde_json reads as a float and a count field refuses.
        #expect(try encoded(.double(-0.0)) == "0")
        // An expiration in milliseconds, as yagna reads it.
        #expect(try encoded(.double(1_764_396_000_000)) == "1764396000000")
        #expect(try encoded(.int(9_007_199_254_740_993)) == "9007199254740993")
        #expect(try encoded(.double(0.0001)) == "0.0001")
        #expect(try encoded(.double(3.5)) == "3.5")
    }

    @Test func encodingRoundTrips() throws {
        let value: YagnaJSON = .object([
            "n": .int(7), "f": .double(0.25), "s": .string("x"), "b": .bool(true), "z": .null,
            "a": .array([.int(1), .object(["k": .string("v")])]),
        ])
        #expect(try encoded(value) == #"{"a":[1,{"k":"v"}],"b":true,"f":0.25,"n":7,"s":"x","z":null}"#)
        #expect(try YagnaJSON.parse(encoded(value)) == value)
    }

    @Test func subscriptReadsObjectMembers() throws {
        let value = try YagnaJSON.parse(#"{"proposal":{"properties":{"golem.inf.cpu.threads":4}}}"#)
        #expect(value["proposal"]?["properties"]?["golem.inf.cpu.threads"] == .int(4))
        #expect(value["missing"] == nil)
        #expect(YagnaJSON.array([.int(1)])["proposal"] == nil)
        #expect(YagnaJSON.string("proposal")["proposal"] == nil)
    }

    @Test func accessorsReturnNilForOtherCases() {
        #expect(YagnaJSON.string("x").string == "x")
        #expect(YagnaJSON.int(1).string == nil)
        #expect(YagnaJSON.bool(false).bool == false)
        #expect(YagnaJSON.int(0).bool == nil)
        #expect(YagnaJSON.array([.null]).array == [.null])
        #expect(YagnaJSON.object([:]).array == nil)
        #expect(YagnaJSON.object(["k": .int(1)]).object == ["k": .int(1)])
        #expect(YagnaJSON.array([]).object == nil)
    }

    @Test func parsingTextThatIsNotJSONThrows() {
        for text in ["", "{", "[1,", #"{"a" 1}"#, "tru", "not json"] {
            #expect(throws: (any Error).self, "\(text)") { try YagnaJSON.parse(text) }
        }
    }
}
