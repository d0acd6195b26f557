import BridgeSettings
import Foundation
import Testing

@Suite struct ConfigFileTests {
    func file(_ json: String) throws -> ConfigFile {
        try ConfigFile(path: "/etc/bridge.json", contents: Data(json.utf8))
    }

    @Test func stringsNumbersAndBooleansBecomeTheTextAFlagWouldGive() throws {
        let values = try file(#"{"a": "x", "b": 8, "c": 0.5, "d": true}"#).values
        #expect(values == ["a": "x", "b": "8", "c": "0.5", "d": "true"])
    }

    @Test func aNestedValueIsRefusedNamingItsKey() {
        #expect(throws: SettingError(#"the config file /etc/bridge.json: "pool" must be a string, number or boolean"#)) {
            try file(#"{"concurrency": 2, "pool": {"max": 1}}"#)
        }
    }

    @Test func aFileThatIsNotAnObjectIsRefused() {
        #expect(throws: SettingError("the config file /etc/bridge.json is not a JSON object of settings")) {
            try file("[1, 2]")
        }
    }

    @Test func anUnknownKeyIsRefusedWithTheSettingItMayMean() throws {
        let known = ServeSettings().fileKeys.union(GolemSettings().fileKeys)
        #expect(throws: SettingError(
            #"the config file /etc/bridge.json has the unknown setting "retention-hour"; did you mean "retention-hours"? (settings are the long option names of --help)"#
        )) {
            try file(#"{"concurrency": 2, "retention-hour": 24}"#).rejectUnknownKeys(known: known)
        }
    }

    @Test func anUnknownKeyFarFromEverySettingGetsNoHint() {
        #expect(throws: SettingError(
            #"the config file /etc/bridge.json has the unknown setting "colour" (settings are the long option names of --help)"#
        )) {
            try file(#"{"colour": "blue"}"#).rejectUnknownKeys(known: ServeSettings().fileKeys)
        }
    }

    @Test func everySettingOfServeAndTheGolemBackendIsAKnownKey() throws {
        let known = ServeSettings().fileKeys.union(GolemSettings().fileKeys)
        try file(#"{"concurrency": 2, "retention-hours": 24, "pool-min": 1, "metrics-address": "127.0.0.1:9464"}"#)
            .rejectUnknownKeys(known: known)
    }

    @Test func theConfigPathAndTheAppKeyAreNotFileKeys() {
        let known = ServeSettings().fileKeys.union(GolemSettings().fileKeys)
        #expect(!known.contains("config"))
        #expect(!known.contains("yagna-appkey"))
        #expect(known.contains("yagna-appkey-file"))
    }
}
