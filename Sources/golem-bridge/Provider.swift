import ArgumentParser
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

    @Option(help: "The provider node's REST API. [env GOLEM_LOCAL_PROVIDER_API_URL, then YAGNA_API_URL; default http://127.0.0.1:7475]")
    var yagnaApiURL: String?

    @Option(help: "The provider node's app key; never logged. [env GOLEM_LOCAL_PROVIDER_APPKEY, then YAGNA_APPKEY]")
    var yagnaAppkey: String?

    @Option(help: "Subnet (golem.node.debug.subnet). [env GOLEM_BRIDGE_SUBNET; default public]")
    var subnet: String?

    @Option(help: "Payment platform. [env GOLEM_BRIDGE_PAYMENT_PLATFORM; default erc20-holesky-tglm]")
    var paymentPlatform: String?

    @Option(help: "Advertised CPU threads. [default 2]") var cpuThreads: Int?
    @Option(help: "Advertised memory in GiB. [default 4]") var memoryGib: Double?
    @Option(help: "Advertised storage in GiB. [default 20]") var storageGib: Double?
    @Option(help: "Start price in GLM. [default 0]") var priceStart: String?
    @Option(help: "GLM per CPU second. [default 0.0001]") var priceCpuSec: String?
    @Option(help: "GLM per second of activity. [default 0.00002]") var priceEnvSec: String?

    @Option(help: "Seconds between debit notes when the demand does not negotiate them. [default 120]")
    var debitNoteInterval: Double?

    @Option(help: "Seconds a requestor has to accept a debit note when the demand does not say. [default 240]")
    var debitNoteAcceptTimeout: Double?

    @Option(help: "Seconds an offer lives before it is re-subscribed. [default 3600]")
    var offerExpiration: Double?

    @Option(help: "Folder for the activities' work directories. [env GOLEM_BRIDGE_PROVIDER_WORK_ROOT; default $TMPDIR/golem-provider]")
    var workRoot: String?

    @Option(help: "trace, debug, info, notice, warning, error or critical. [env GOLEM_BRIDGE_LOG_LEVEL; default info]")
    var logLevel: String?

    func run() async throws {
        let settings = try Settings(configPath: nil)
        let env = ProcessInfo.processInfo.environment
        let level = try parseLogLevel(settings.string("log-level", flag: logLevel, default: "info"))
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "golem-bridge.provider")

        func nonEmpty(_ value: String?) -> String? { value.flatMap { $0.isEmpty ? nil : $0 } }
        let url = yagnaApiURL ?? nonEmpty(env["GOLEM_LOCAL_PROVIDER_API_URL"]) ?? nonEmpty(env["YAGNA_API_URL"]) ?? "http://127.0.0.1:7475"
        guard let key = yagnaAppkey ?? nonEmpty(env["GOLEM_LOCAL_PROVIDER_APPKEY"]) ?? nonEmpty(env["YAGNA_APPKEY"]) else {
            throw ValidationError("no app key: pass --yagna-appkey or set GOLEM_LOCAL_PROVIDER_APPKEY (scripts/golem-local writes it to its env file)")
        }
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else { throw ValidationError("--yagna-api-url must be http(s)://, got \(url)") }

        func decimal(_ flag: String?, _ name: String, _ fallback: Decimal) throws -> Decimal {
            guard let text = settings.string(name, flag: flag) else { return fallback }
            guard let value = Decimal(string: text), value >= 0 else { throw ValidationError("--\(name) must be a non-negative decimal, got \(text)") }
            return value
        }
        func seconds(_ flag: Double?, _ name: String, _ fallback: Double) throws -> Duration {
            let value = try settings.double(name, flag: flag, default: fallback)
            guard value > 0, value <= 2_592_000 else { throw ValidationError("--\(name) must be positive and at most 2592000 (30 days)") }
            return .milliseconds(Int64(value * 1000))
        }
        let defaults = LinearPricing()
        let pricing = LinearPricing(
            start: try decimal(priceStart, "price-start", defaults.start),
            perCPUSecond: try decimal(priceCpuSec, "price-cpu-sec", defaults.perCPUSecond),
            perEnvSecond: try decimal(priceEnvSec, "price-env-sec", defaults.perEnvSecond)
        )
        let threads = try settings.int("cpu-threads", flag: cpuThreads, default: 2)
        let memory = try settings.double("memory-gib", flag: memoryGib, default: 4)
        let storage = try settings.double("storage-gib", flag: storageGib, default: 20)
        guard threads > 0, memory > 0, storage > 0 else { throw ValidationError("--cpu-threads, --memory-gib and --storage-gib must be positive") }
        let configuration = ProviderConfiguration(
            yagna: YagnaConfiguration(apiURL: url, appKey: key, requestTimeout: .seconds(20)),
            subnet: settings.string("subnet", flag: subnet, default: "public"),
            paymentPlatform: settings.string("payment-platform", flag: paymentPlatform, default: "erc20-holesky-tglm"),
            cpuThreads: threads, memoryGiB: memory, storageGiB: storage, pricing: pricing,
            debitNoteInterval: try seconds(debitNoteInterval, "debit-note-interval", 120),
            debitNoteAcceptTimeout: try seconds(debitNoteAcceptTimeout, "debit-note-accept-timeout", 240),
            offerExpiration: try seconds(offerExpiration, "offer-expiration", 3600),
            workRoot: settings.string(
                "provider-work-root", flag: workRoot,
                default: (env["TMPDIR"] ?? "/tmp") + "/golem-provider"
            )
        )
        let service = LocalProviderService(configuration: configuration, logger: logger)
        do { try service.preflight() } catch { throw CLIError("provider: \(error)") }
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
