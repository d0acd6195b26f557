import ArgumentParser
import Foundation
import GolemBackend
import GolemJobs
import Yagna

/// `serve --backend golem` settings. The app key comes only from the environment or a file, never a
/// flag (a flag shows in `ps`), and is never logged.
struct GolemOptions: ParsableArguments {
    @Option(help: "Golem: yagna's REST API URL. [env GOLEM_BRIDGE_YAGNA_API_URL or YAGNA_API_URL; default http://127.0.0.1:7465]")
    var yagnaApiUrl: String?

    @Option(help: "Golem: file holding the yagna app key. [env GOLEM_BRIDGE_YAGNA_APPKEY_FILE; or the key itself in env GOLEM_BRIDGE_YAGNA_APPKEY or YAGNA_APPKEY]")
    var yagnaAppkeyFile: String?

    @Option(help: "Golem: payment driver. [env GOLEM_BRIDGE_PAYMENT_DRIVER; default erc20]")
    var paymentDriver: String?

    @Option(help: "Golem: payment network. [env GOLEM_BRIDGE_PAYMENT_NETWORK; default holesky]")
    var paymentNetwork: String?

    @Option(help: "Golem: payment platform, overriding driver and network (e.g. erc20-holesky-tglm). [env GOLEM_BRIDGE_PAYMENT_PLATFORM]")
    var paymentPlatform: String?

    @Option(help: "Golem: subnet tag of the demand. [env GOLEM_BRIDGE_SUBNET; default public]")
    var subnet: String?

    @Option(help: "Golem: global budget in GLM, the allocation's total. [env GOLEM_BRIDGE_BUDGET; default 5]")
    var budget: String?

    @Option(help: "Golem: default image tag, resolved through the registry. [env GOLEM_BRIDGE_IMAGE_TAG; default golem/alpine:latest]")
    var imageTag: String?

    @Option(help: "Golem: default image sha3 hash; with --image-url skips the registry. [env GOLEM_BRIDGE_IMAGE_HASH]")
    var imageHash: String?

    @Option(help: "Golem: default image download URL (with --image-hash). [env GOLEM_BRIDGE_IMAGE_URL]")
    var imageUrl: String?

    @Option(help: "Golem: image registry URL. [env GOLEM_BRIDGE_REGISTRY_URL; default https://registry.golem.network]")
    var registryUrl: String?

    @Option(help: "Golem: rentals kept for reuse at most; 0 = one agreement per job. [env GOLEM_BRIDGE_POOL_MAX; default --concurrency]")
    var poolMax: Int?

    @Option(help: "Golem: rentals rented at start, before any job, and replaced when lost, so jobs skip negotiation; kept even when unused; at most --pool-max. [env GOLEM_BRIDGE_POOL_MIN; default 0]")
    var poolMin: Int?

    @Option(help: "Golem: seconds an unused rental is kept. [env GOLEM_BRIDGE_POOL_IDLE_SECONDS; default 60]")
    var poolIdleSeconds: Double?

    @Option(help: "Golem: seconds to find a provider before no_provider. [env GOLEM_BRIDGE_NEGOTIATION_TIMEOUT; default 30]")
    var negotiationTimeout: Double?

    @Option(help: "Golem: default rental hours per agreement. [env GOLEM_BRIDGE_RENT_HOURS; default 0.5]")
    var rentHours: Double?

    @Option(help: "Golem: seconds between the provider's debit notes that the demand proposes. [env GOLEM_BRIDGE_DEBIT_NOTE_INTERVAL; default 120]")
    var debitNoteInterval: Int?

    @Option(help: "Golem: SQLite file recording rented agreements and activities for crash recovery. [env GOLEM_BRIDGE_GOLEM_STATE; default: the journal's path + .golem]")
    var golemState: String?

    func configuration(settings: Settings, concurrency: Int, journalPath: String) throws -> GolemBackendConfiguration {
        let environment = settings.environment
        let url = settings.string("yagna-api-url", flag: yagnaApiUrl) ?? environment["YAGNA_API_URL"] ?? "http://127.0.0.1:7465"
        guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? "") else {
            throw ValidationError("--yagna-api-url must be an http(s) URL, got \"\(url)\"")
        }
        let key: String
        if let file = settings.string("yagna-appkey-file", flag: yagnaAppkeyFile) {
            do {
                key = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            } catch {
                throw ValidationError("cannot read the yagna app key file \(file): \(error.localizedDescription)")
            }
        } else if let value = environment["GOLEM_BRIDGE_YAGNA_APPKEY"] ?? environment["YAGNA_APPKEY"], !value.isEmpty {
            key = value
        } else {
            throw ValidationError("--backend golem needs a yagna app key: set GOLEM_BRIDGE_YAGNA_APPKEY (or YAGNA_APPKEY) or --yagna-appkey-file")
        }
        guard !key.isEmpty else { throw ValidationError("the yagna app key is empty") }

        let budgetText = settings.string("budget", flag: budget, default: "5")
        guard let budgetValue = Decimal(string: budgetText), budgetValue > 0 else {
            throw ValidationError("--budget must be a positive number of GLM, got \"\(budgetText)\"")
        }
        let hash = settings.string("image-hash", flag: imageHash)
        let imageURL = settings.string("image-url", flag: imageUrl)
        guard (hash == nil) == (imageURL == nil) || imageURL == nil else {
            throw ValidationError("--image-url needs --image-hash")
        }
        let package = hash != nil
            ? PackageSpec(imageHash: hash, imageUrl: imageURL)
            : PackageSpec(imageTag: settings.string("image-tag", flag: imageTag, default: "golem/alpine:latest"))
        let hours = try settings.double("rent-hours", flag: rentHours, default: 0.5)
        let negotiation = try settings.double("negotiation-timeout", flag: negotiationTimeout, default: 30)
        let idle = try settings.double("pool-idle-seconds", flag: poolIdleSeconds, default: 60)
        let poolMaxValue = try settings.int("pool-max", flag: poolMax, default: concurrency)
        let poolMinValue = try settings.int("pool-min", flag: poolMin, default: 0)
        guard hours <= 720 else { throw ValidationError("--rent-hours must be at most 720 (30 days)") }
        guard negotiation <= 86_400, idle <= 30 * 86_400 else {
            throw ValidationError("--negotiation-timeout must be at most 86400 s and --pool-idle-seconds at most 2592000")
        }
        guard poolMinValue <= poolMaxValue else {
            throw ValidationError("--pool-min (\(poolMinValue)) must not exceed --pool-max (\(poolMaxValue)); --pool-max 0 means no pool")
        }
        guard hours > 0, negotiation > 0, idle >= 0, poolMaxValue >= 0, poolMinValue >= 0 else {
            throw ValidationError("--rent-hours and --negotiation-timeout must be positive; pool sizes and idle seconds not negative")
        }
        var configuration = GolemBackendConfiguration(
            yagna: YagnaConfiguration(apiURL: url, appKey: key),
            paymentDriver: settings.string("payment-driver", flag: paymentDriver, default: "erc20"),
            paymentNetwork: settings.string("payment-network", flag: paymentNetwork, default: "holesky"),
            paymentPlatform: settings.string("payment-platform", flag: paymentPlatform),
            subnet: settings.string("subnet", flag: subnet, default: "public"),
            budget: budgetValue,
            defaultPackage: package,
            registryURL: settings.string("registry-url", flag: registryUrl, default: "https://registry.golem.network"),
            negotiationTimeout: .milliseconds(Int64(negotiation * 1000)),
            pool: RentalPoolPolicy(maxSize: poolMaxValue, minSize: poolMinValue, idleTimeout: .milliseconds(Int64(idle * 1000))),
            statePath: settings.string("golem-state", flag: golemState, default: journalPath + ".golem")
        )
        configuration.defaultMarket.rentHours = hours
        configuration.debitNoteInterval = try settings.int("debit-note-interval", flag: debitNoteInterval, default: 120)
        guard configuration.debitNoteInterval > 0 else { throw ValidationError("--debit-note-interval must be positive") }
        return configuration
    }
}
