import Bridge
import BridgeSettings
import Foundation
import GolemBackend
import LocalProvider
import Testing
import Yagna

/// The settings tables are where a default is defined: `--help`, the environment and the config file
/// all read them. The libraries' configuration types keep init defaults of their own for callers that
/// are not the command line (tests, embedders); these tests hold each such default to the table's, so
/// changing one without the other fails here instead of making `serve` and an embedder disagree.
@Suite struct LibraryDefaultsTests {
    let yagna = YagnaConfiguration(appKey: "test")

    @Test func bridgeConfigurationDefaultsAreServeSettingsDefaults() throws {
        let table = ServeSettings()
        let configuration = BridgeConfiguration(amqp: try .init(url: table.amqpURL.defaultValue))
        #expect(configuration.prefix == table.prefix.defaultValue)
        #expect(configuration.journalPath == table.journal.defaultValue)
        #expect(configuration.shutdownGrace == .seconds(table.shutdownGrace.defaultValue))
        #expect(configuration.retention == .seconds(table.retentionHours.defaultValue * 3600))
        #expect(configuration.maxRequestBytes == table.maxRequestBytes.defaultValue)
    }

    @Test func golemBackendConfigurationDefaultsAreGolemSettingsDefaults() {
        let table = GolemSettings()
        let configuration = GolemBackendConfiguration(yagna: yagna)
        #expect(yagna.apiURL == table.yagnaApiUrl.defaultValue)
        #expect(configuration.paymentDriver == table.paymentDriver.defaultValue)
        #expect(configuration.paymentNetwork == table.paymentNetwork.defaultValue)
        #expect(configuration.paymentPlatform == table.paymentPlatform.defaultValue)
        #expect(configuration.subnet == table.subnet.defaultValue)
        #expect(configuration.budget == table.budget.defaultValue)
        #expect(configuration.defaultPackage.imageTag == table.imageTag.defaultValue)
        #expect(configuration.registryURL == table.registryUrl.defaultValue)
        #expect(configuration.negotiationTimeout == .seconds(table.negotiationTimeout.defaultValue))
        #expect(configuration.defaultMarket.rentHours == table.rentHours.defaultValue)
        #expect(configuration.debitNoteInterval == table.debitNoteInterval.defaultValue)
        #expect(configuration.pool.idleTimeout == .seconds(table.poolIdleSeconds.defaultValue))
        #expect(configuration.pool.minSize == table.poolMin.defaultValue)
    }

    @Test func providerConfigurationDefaultsAreProviderSettingsDefaults() {
        let table = ProviderSettings()
        let configuration = ProviderConfiguration(yagna: YagnaConfiguration(apiURL: table.yagnaApiUrl.defaultValue, appKey: "test"))
        #expect(configuration.subnet == table.subnet.defaultValue)
        #expect(configuration.gsbURL == table.gsbUrl.defaultValue)
        #expect(configuration.paymentPlatform == table.paymentPlatform.defaultValue)
        #expect(configuration.cpuThreads == table.cpuThreads.defaultValue)
        #expect(configuration.memoryGiB == table.memoryGib.defaultValue)
        #expect(configuration.storageGiB == table.storageGib.defaultValue)
        #expect(configuration.pricing.start == table.priceStart.defaultValue)
        #expect(configuration.pricing.perCPUSecond == table.priceCpuSec.defaultValue)
        #expect(configuration.pricing.perEnvSecond == table.priceEnvSec.defaultValue)
        #expect(configuration.debitNoteInterval == .seconds(table.debitNoteInterval.defaultValue))
        #expect(configuration.debitNoteAcceptTimeout == .seconds(table.debitNoteAcceptTimeout.defaultValue))
        #expect(configuration.offerExpiration == .seconds(table.offerExpiration.defaultValue))
    }
}
