import BridgeSettings
import Foundation
import Testing

@Suite struct SettingSourcesTests {
    let concurrency = Setting<Int>("concurrency", "Jobs run at once.", type: .integer(1...10_000), default: 4)

    func file(_ json: String, path: String = "/etc/bridge.json") throws -> ConfigFile {
        try ConfigFile(path: path, contents: Data(json.utf8))
    }

    @Test func aFlagWinsOverTheEnvironmentTheFileAndTheDefault() throws {
        let sources = SettingSources(environment: ["GOLEM_BRIDGE_CONCURRENCY": "2"], file: try file(#"{"concurrency": 3}"#))
        #expect(try sources.value(concurrency, flag: "1") == 1)
    }

    @Test func theEnvironmentWinsOverTheFileAndTheDefault() throws {
        let sources = SettingSources(environment: ["GOLEM_BRIDGE_CONCURRENCY": "2"], file: try file(#"{"concurrency": 3}"#))
        #expect(try sources.value(concurrency, flag: nil) == 2)
    }

    @Test func theFileWinsOverTheDefault() throws {
        let sources = SettingSources(environment: [:], file: try file(#"{"concurrency": 3}"#))
        #expect(try sources.value(concurrency, flag: nil) == 3)
    }

    @Test func theDefaultIsUsedWhenNoSourceGivesOne() throws {
        let sources = SettingSources(environment: ["GOLEM_BRIDGE_BACKLOG": "9"], file: try file(#"{"backlog": 9}"#))
        #expect(try sources.value(concurrency, flag: nil) == 4)
    }

    @Test func anEmptyEnvironmentVariableCountsAsUnset() throws {
        let sources = SettingSources(environment: ["GOLEM_BRIDGE_CONCURRENCY": ""], file: try file(#"{"concurrency": 3}"#))
        #expect(try sources.value(concurrency, flag: nil) == 3)
    }

    @Test func environmentNamesAreTriedInOrder() throws {
        let url = GolemSettings().yagnaApiUrl
        let both = SettingSources(environment: ["GOLEM_BRIDGE_YAGNA_API_URL": "http://a:1", "YAGNA_API_URL": "http://b:2"])
        let second = SettingSources(environment: ["YAGNA_API_URL": "http://b:2"])
        #expect(try both.value(url, flag: nil) == "http://a:1")
        #expect(try second.value(url, flag: nil) == "http://b:2")
    }

    @Test func aSettingWithADefaultNoteIsNilWhenUnset() throws {
        let sources = SettingSources(environment: [:])
        #expect(try sources.value(ServeSettings().concurrency, flag: nil) == nil)
        #expect(try sources.value(ServeSettings().concurrency, flag: "8") == 8)
    }

    @Test func aBadValueFromTheEnvironmentNamesTheSettingTheValueAndTheVariable() {
        let sources = SettingSources(environment: ["GOLEM_BRIDGE_CONCURRENCY": "many"])
        #expect(throws: SettingError(#"--concurrency must be a whole number from 1 to 10000, got "many" (from GOLEM_BRIDGE_CONCURRENCY)"#)) {
            try sources.value(concurrency, flag: nil)
        }
    }

    @Test func aValueOutOfBoundsFromTheFileNamesTheFile() throws {
        let sources = SettingSources(environment: [:], file: try file(#"{"concurrency": 0}"#, path: "/srv/b.json"))
        #expect(throws: SettingError(#"--concurrency must be a whole number from 1 to 10000, got "0" (from the config file /srv/b.json)"#)) {
            try sources.value(concurrency, flag: nil)
        }
    }

    @Test func aBadFlagIsNamedWithoutASource() {
        let sources = SettingSources(environment: [:])
        #expect(throws: SettingError(#"--concurrency must be a whole number from 1 to 10000, got "20000""#)) {
            try sources.value(concurrency, flag: "20000")
        }
    }

    @Test func aSecretValueIsNeverInTheMessage() {
        let secret = Setting<Int>("pin", "A secret number.", type: .integer(0...9999), default: 0, isSecret: true)
        let sources = SettingSources(environment: ["GOLEM_BRIDGE_PIN": "sup3r-secret"])
        #expect(throws: SettingError("--pin must be a whole number from 0 to 9999 (from GOLEM_BRIDGE_PIN)")) {
            try sources.value(secret, flag: nil)
        }
    }

    struct NotHostPort: Error, CustomStringConvertible {
        var description: String { "\"9464\" is not HOST:PORT" }
    }

    @Test func aConversionErrorNamesTheSettingAndItsSource() {
        let sources = SettingSources(environment: ["GOLEM_BRIDGE_METRICS_ADDRESS": "9464"])
        #expect(throws: SettingError(#"--metrics-address: "9464" is not HOST:PORT (from GOLEM_BRIDGE_METRICS_ADDRESS)"#)) {
            try sources.value(ServeSettings().metricsAddress, flag: nil) { text -> String? in
                if text != nil { throw NotHostPort() }
                return nil
            }
        }
    }

    @Test func aKeyOverrideNamesBothTheVariableAndTheFileKey() throws {
        let workRoot = ProviderSettings().workRoot
        #expect(workRoot.environment == ["GOLEM_BRIDGE_PROVIDER_WORK_ROOT"])
        #expect(workRoot.fileKey == "provider-work-root")
        let sources = SettingSources(environment: [:], file: try file(#"{"provider-work-root": "/w"}"#))
        #expect(try sources.value(workRoot, flag: nil) == "/w")
    }

    @Test func theConfigPathComesFromTheFlagOrElseTheEnvironment() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("BridgeSettingsTests-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let fromFlag = directory.appendingPathComponent("flag.json"), fromEnv = directory.appendingPathComponent("env.json")
        try Data(#"{"concurrency": 5}"#.utf8).write(to: fromFlag)
        try Data(#"{"concurrency": 6}"#.utf8).write(to: fromEnv)
        let environment = ["GOLEM_BRIDGE_CONFIG": fromEnv.path]

        #expect(try SettingSources.load(configFlag: fromFlag.path, environment: environment).value(concurrency, flag: nil) == 5)
        #expect(try SettingSources.load(configFlag: nil, environment: environment).value(concurrency, flag: nil) == 6)
        #expect(try SettingSources.load(configFlag: nil, environment: [:]).file == nil)
    }

    @Test func aMissingConfigFileIsNamed() {
        #expect {
            try SettingSources.load(configFlag: "/nonexistent-golem-bridge/b.json", environment: [:])
        } throws: { error in
            "\(error)".hasPrefix("cannot read the config file /nonexistent-golem-bridge/b.json")
        }
    }
}
