import BridgeSettings
import Testing

@Suite struct SettingTests {
    @Test func helpSaysTheEnvironmentAndTheDefault() {
        let setting = Setting<Double>("shutdown-grace", "Seconds to finish.", type: .number(0...60), default: 30)
        #expect(setting.help == "Seconds to finish. [env GOLEM_BRIDGE_SHUTDOWN_GRACE; default 30]")
    }

    @Test func helpSaysAComputedDefaultAndEveryVariableInOrder() {
        #expect(ServeSettings().concurrency.help == "Jobs run at once. [env GOLEM_BRIDGE_CONCURRENCY; default: the number of cores]")
        #expect(GolemSettings().yagnaApiUrl.help
            == "yagna's REST API URL. [env GOLEM_BRIDGE_YAGNA_API_URL, then YAGNA_API_URL; default http://127.0.0.1:7465]")
    }

    @Test func helpOfASettingWithNoDefaultSaysOnlyTheVariable() {
        #expect(ServeSettings().config.help.hasSuffix("[env GOLEM_BRIDGE_CONFIG]"))
    }

    @Test func aSharedSettingKeepsItsSourcesAndDefaultUnderANewSummary() {
        let serve = ServeSettings().prefix, client = ClientSettings().prefix
        #expect(client.summary == "The bridge's topology prefix.")
        #expect(client.environment == serve.environment)
        #expect(client.defaultValue == serve.defaultValue)
    }

    struct Table: SettingsTable {
        let first = Setting<Int>("first", "One.", type: .integer(0...1), default: 0)
        let note = "not a setting"
        let second = Setting<String?>("second", "Two.", type: .text, defaultNote: nil, inFile: false)
    }

    @Test func aTableListsEverySettingItHoldsInOrder() {
        #expect(Table().all.map(\.name) == ["first", "second"])
        #expect(Table().fileKeys == ["first"])
    }

    @Test func everySettingOfACommandHasADistinctName() {
        for table in [ServeSettings().all + GolemSettings().all, ProviderSettings().all, ClientSettings().all] {
            let names = table.map(\.name)
            #expect(Set(names).count == names.count, "\(names)")
        }
    }
}
