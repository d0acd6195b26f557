import BridgeSettings
import Foundation
import Logging
import Testing

@Suite struct ValueTypeTests {
    @Test func anIntegerMustBeWholeAndWithinItsRange() {
        let type = ValueType<Int>.integer(1...10)
        #expect(type.parse("1") == 1)
        #expect(type.parse("10") == 10)
        #expect(type.parse("0") == nil)
        #expect(type.parse("11") == nil)
        #expect(type.parse("2.5") == nil)
        #expect(type.expected == "a whole number from 1 to 10")
        #expect(ValueType<Int>.integer(0...Int.max).expected == "a whole number of at least 0")
    }

    @Test func aNumberAboveABoundExcludesTheBoundAndInfinity() {
        let type = ValueType<Double>.number(above: 0, atMost: 720)
        #expect(type.parse("0.5") == 0.5)
        #expect(type.parse("720") == 720)
        #expect(type.parse("0") == nil)
        #expect(type.parse("720.1") == nil)
        #expect(ValueType<Double>.number(above: 0).parse("inf") == nil)
        #expect(ValueType<Double>.number(0...10).parse("nan") == nil)
        #expect(type.expected == "a number above 0 and at most 720")
    }

    @Test func aDecimalIsExactAndRefusesTrailingText() {
        let type = ValueType<Decimal>.decimal(atLeast: 0)
        #expect(type.parse("0.0001") == Decimal(string: "0.0001"))
        #expect(type.parse("5abc") == nil)
        #expect(type.parse("-1") == nil)
        #expect(ValueType<Decimal>.decimal(atLeast: 0, inclusive: false).parse("0") == nil)
    }

    @Test func oneOfTakesACaseInAnyLetterCase() {
        let type = ValueType<Logger.Level>.oneOf
        #expect(type.parse("DEBUG") == .debug)
        #expect(type.parse("verbose") == nil)
        #expect(type.expected == "one of trace, debug, info, notice, warning, error, critical")
    }

    @Test func asciiTextMustHaveTheLengthAndOnlyAllowedCharacters() {
        let type = ValueType<String>.ascii(1...3, "one to three letters", allowing: { (0x61...0x7a).contains($0) })
        #expect(type.parse("abc") == "abc")
        #expect(type.parse("a") == "a")
        #expect(type.parse("") == nil)
        #expect(type.parse("abcd") == nil)
        #expect(type.parse("ab c") == nil)
        #expect(type.parse("é") == nil)
    }

    @Test func aDecimalIsInPlainNotation() {
        let type = ValueType<Decimal>.decimal(atLeast: 0)
        #expect(type.parse("0.0001") == Decimal(string: "0.0001"))
        #expect(type.parse("12") == 12)
        for text in ["", ".", "1.", ".5", "1.2.3", "1e3", "-1", " 1", "1,5"] {
            #expect(type.parse(text) == nil, "\(text)")
        }
    }

    @Test func anHTTPURLNeedsTheSchemeAndAHost() {
        #expect(ValueType<String>.httpURL.parse("http://127.0.0.1:7465") != nil)
        #expect(ValueType<String>.httpURL.parse("ftp://host") == nil)
        #expect(ValueType<String>.httpURL.parse("127.0.0.1:7465") == nil)
    }

    @Test func anOptionalSettingRefusesWhatItsTypeRefuses() throws {
        let optional = Setting<Int?>("backlog", "Waiting jobs.", type: .integer(0...5), defaultNote: nil)
        #expect(throws: SettingError(#"--backlog must be a whole number from 0 to 5, got "x""#)) {
            try SettingSources(environment: [:]).value(optional, flag: "x")
        }
    }
}
