import Foundation

/// `serve --backend golem`'s settings. The app key comes only from the environment or a file, never a
/// flag (a flag shows in `ps`), and never from the config file.
public struct GolemSettings: SettingsTable {
    /// The yagna app key itself: environment only.
    public static let appKey = Setting<String?>(
        "yagna-appkey", "The yagna app key.", type: .text, defaultNote: nil,
        environment: ["GOLEM_BRIDGE_YAGNA_APPKEY", "YAGNA_APPKEY"], inFile: false, hasFlag: false, isSecret: true
    )

    public let yagnaApiUrl = Setting<String>(
        "yagna-api-url", "yagna's REST API URL.", type: .httpURL, default: "http://127.0.0.1:7465",
        environment: [Setting<String>.environmentName("yagna-api-url"), "YAGNA_API_URL"]
    )
    public let yagnaAppkey = GolemSettings.appKey
    public let yagnaAppkeyFile = Setting<String?>(
        "yagna-appkey-file",
        "File holding the yagna app key; or the key itself in env \(GolemSettings.appKey.environment.joined(separator: " or ")).",
        type: .text, defaultNote: nil
    )
    public let paymentDriver = Setting<String>("payment-driver", "Payment driver.", type: .text, default: "erc20")
    public let paymentNetwork = Setting<String>(
        "payment-network", "Payment network: hoodi (testnet, tGLM) or polygon (mainnet, GLM and POL for gas).", type: .text, default: "hoodi"
    )
    public let paymentPlatform = Setting<String?>(
        "payment-platform", "Payment platform, overriding driver and network (e.g. erc20-hoodi-tglm).",
        type: .text, defaultNote: nil
    )
    public let subnet = Setting<String>("subnet", "Subnet tag of the demand.", type: .text, default: "public")
    public let budget = Setting<Decimal>(
        "budget", "Global budget in GLM, the allocation's total.", type: .decimal(atLeast: 0, inclusive: false), default: 5
    )
    public let imageTag = Setting<String>(
        "image-tag", "Default image tag, resolved through the registry.", type: .text, default: "golem/alpine:latest"
    )
    public let imageHash = Setting<String?>(
        "image-hash", "Default image sha3 hash; with --image-url skips the registry.", type: .text, defaultNote: nil
    )
    public let imageUrl = Setting<String?>(
        "image-url", "Default image download URL (with --image-hash).", type: .text, defaultNote: nil
    )
    public let registryUrl = Setting<String>(
        "registry-url", "Image registry URL.", type: .text, default: "https://registry.golem.network"
    )
    public let poolMax = Setting<Int?>(
        "pool-max", "Rentals kept for reuse at most; 0 = one agreement per job.",
        type: .integer(0...Int.max), defaultNote: "--concurrency"
    )
    public let poolMin = Setting<Int>(
        "pool-min",
        "Rentals rented at start, before any job, and replaced when lost, so jobs skip negotiation; kept even when unused; at most --pool-max.",
        type: .integer(0...Int.max), default: 0
    )
    public let poolIdleSeconds = Setting<Double>(
        "pool-idle-seconds", "Seconds an unused rental is kept.", type: .number(0...30 * 86_400), default: 60
    )
    public let negotiationTimeout = Setting<Double>(
        "negotiation-timeout", "Seconds to find a provider before no_provider.",
        type: .number(above: 0, atMost: 86_400), default: 30
    )
    public let rentHours = Setting<Double>(
        "rent-hours", "Default rental hours per agreement: 5 minutes (0.0833) to 24, what providers accept.",
        type: .number((5.0 / 60)...24), default: 0.5
    )
    public let debitNoteInterval = Setting<Int>(
        "debit-note-interval", "Seconds between the provider's debit notes that the demand proposes (providers take 1 to 86400).",
        type: .integer(1...86_400), default: 120
    )
    public let golemState = Setting<String?>(
        "golem-state", "SQLite file recording rented agreements and activities for crash recovery.",
        type: .text, defaultNote: "the journal's path + .golem; beside a postgres:// journal, golem-bridge-<instance>.sqlite.golem"
    )

    public init() {}
}
