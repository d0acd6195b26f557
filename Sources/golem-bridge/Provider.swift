import ArgumentParser
import BridgeSettings
import Foundation
import LocalProvider
import Logging
import ServiceLifecycle
import Yagna

struct Provider: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the local provider agent on a yagna node (the local Golem network).",
        discussion: """
            Offers this machine on the node's market, approves agreements, runs each activity's \
            ExeScript in a bubblewrap sandbox (served on yagna's GSB WebSocket API as an exe-unit), \
            and issues debit notes and invoices. Runs until SIGTERM or SIGINT, then destroys its \
            activities and unsubscribes its offer. See docs/local-provider.md.
            """
    )

    static let settings = ProviderSettings()

    @Option(Provider.settings.yagnaApiUrl) var yagnaApiURL: String?
    @Option(Provider.settings.yagnaAppkey) var yagnaAppkey: String?
    @Option(Provider.settings.subnet) var subnet: String?
    @Option(Provider.settings.gsbUrl) var gsbURL: String?
    @Option(Provider.settings.paymentPlatform) var paymentPlatform: String?
    @Option(Provider.settings.cpuThreads) var cpuThreads: String?
    @Option(Provider.settings.memoryGib) var memoryGib: String?
    @Option(Provider.settings.storageGib) var storageGib: String?
    @Option(Provider.settings.priceStart) var priceStart: String?
    @Option(Provider.settings.priceCpuSec) var priceCpuSec: String?
    @Option(Provider.settings.priceEnvSec) var priceEnvSec: String?
    @Option(Provider.settings.debitNoteInterval) var debitNoteInterval: String?
    @Option(Provider.settings.debitNoteAcceptTimeout) var debitNoteAcceptTimeout: String?
    @Option(Provider.settings.offerExpiration) var offerExpiration: String?
    @Option(Provider.settings.workRoot) var workRoot: String?
    @Option(Provider.settings.warmSandboxes) var warmSandboxes: String?
    @Option(Provider.settings.logLevel) var logLevel: String?
    @Option(Provider.settings.logFormat) var logFormat: String?

    /// The agent's configuration and log level, from the flags, the environment and the config file
    /// named by `GOLEM_BRIDGE_CONFIG` (whose keys for `serve` it ignores).
    func resolve(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> (ProviderConfiguration, Logger.Level, LogFormat) {
        let table = Self.settings
        let sources = try SettingSources.load(configFlag: nil, environment: environment)
        guard let key = try sources.value(table.yagnaAppkey, flag: yagnaAppkey) else {
            throw SettingError("no app key: pass --yagna-appkey or set \(table.yagnaAppkey.environment.joined(separator: " or ")) (scripts/golem-local writes it to its env file)")
        }
        let configuration = ProviderConfiguration(
            yagna: YagnaConfiguration(apiURL: try sources.value(table.yagnaApiUrl, flag: yagnaApiURL), appKey: key, requestTimeout: .seconds(20)),
            gsbURL: try sources.value(table.gsbUrl, flag: gsbURL),
            subnet: try sources.value(table.subnet, flag: subnet),
            paymentPlatform: try sources.value(table.paymentPlatform, flag: paymentPlatform),
            cpuThreads: try sources.value(table.cpuThreads, flag: cpuThreads),
            memoryGiB: try sources.value(table.memoryGib, flag: memoryGib),
            storageGiB: try sources.value(table.storageGib, flag: storageGib),
            pricing: LinearPricing(
                start: try sources.value(table.priceStart, flag: priceStart),
                perCPUSecond: try sources.value(table.priceCpuSec, flag: priceCpuSec),
                perEnvSecond: try sources.value(table.priceEnvSec, flag: priceEnvSec)
            ),
            debitNoteInterval: .seconds(try sources.value(table.debitNoteInterval, flag: debitNoteInterval)),
            debitNoteAcceptTimeout: .seconds(try sources.value(table.debitNoteAcceptTimeout, flag: debitNoteAcceptTimeout)),
            offerExpiration: .seconds(try sources.value(table.offerExpiration, flag: offerExpiration)),
            workRoot: try sources.value(table.workRoot, flag: workRoot) ?? (environment["TMPDIR"] ?? "/tmp") + "/golem-provider",
            warmSandboxes: try sources.value(table.warmSandboxes, flag: warmSandboxes)
        )
        var withFaults = configuration
        for name in (environment["GOLEM_BRIDGE_PROVIDER_TEST_FAULTS"] ?? "").split(separator: ",") {
            guard let fault = InjectedFault(rawValue: String(name)) else {
                throw SettingError("GOLEM_BRIDGE_PROVIDER_TEST_FAULTS: unknown fault \(name) (known: \(InjectedFault.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            withFaults.injectedFaults.insert(fault)
        }
        return (withFaults, try sources.value(table.logLevel, flag: logLevel), try sources.value(table.logFormat, flag: logFormat))
    }

    func run() async throws {
        let (configuration, level, format) = try await resolvingSettings { [self] in try resolve() }
        LogOutput.bootstrap(level: level, format: format)
        let logger = Logger(label: "golem-bridge.provider")
        if !configuration.injectedFaults.isEmpty {
            logger.warning("faults injected on purpose (GOLEM_BRIDGE_PROVIDER_TEST_FAULTS): not for real work", metadata: ["faults": "\(configuration.injectedFaults.map(\.rawValue).sorted())"])
        }
        let service = LocalProviderService(configuration: configuration, logger: logger)
        do { try await service.preflight() } catch { throw CLIError("provider: \(error)") }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: service)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
    }
}
