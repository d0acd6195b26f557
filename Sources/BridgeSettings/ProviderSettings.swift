import Foundation
import Logging

/// `golem-bridge provider`'s settings. Its yagna node and app key come from the flags or the
/// environment that `scripts/golem-local` writes, never from the config file (whose yagna settings
/// are the requestor's).
public struct ProviderSettings: SettingsTable {
    public let yagnaApiUrl = Setting<String>(
        "yagna-api-url", "The provider node's REST API.", type: .httpURL, default: "http://127.0.0.1:7475",
        environment: ["GOLEM_LOCAL_PROVIDER_API_URL", "YAGNA_API_URL"], inFile: false
    )
    public let yagnaAppkey = Setting<String?>(
        "yagna-appkey", "The provider node's app key; never logged.", type: .text, defaultNote: nil,
        environment: ["GOLEM_LOCAL_PROVIDER_APPKEY", "YAGNA_APPKEY"], inFile: false, isSecret: true
    )
    public let gsbUrl = Setting<String>(
        "gsb-url", "The provider node's service bus (its GSB_URL), which the exe-unit calls for GFTP transfers.",
        type: .text, default: "tcp://127.0.0.1:7464",
        environment: ["GOLEM_LOCAL_PROVIDER_GSB_URL", "GSB_URL"], inFile: false
    )
    public let subnet = GolemSettings().subnet.with(summary: "Subnet (golem.node.debug.subnet).")
    public let paymentPlatform = Setting<String>(
        "payment-platform", "Payment platform (hoodi: the testnet golem-js and yagna 0.17 default to).", type: .text, default: "erc20-hoodi-tglm"
    )
    public let cpuThreads = Setting<Int>("cpu-threads", "Advertised CPU threads.", type: .integer(1...Int.max), default: 2)
    public let memoryGib = Setting<Double>("memory-gib", "Advertised memory in GiB.", type: .number(above: 0), default: 4)
    public let storageGib = Setting<Double>("storage-gib", "Advertised storage in GiB.", type: .number(above: 0), default: 20)
    public let priceStart = Setting<Decimal>("price-start", "Start price in GLM.", type: .decimal(atLeast: 0), default: 0)
    public let priceCpuSec = Setting<Decimal>(
        "price-cpu-sec", "GLM per CPU second.", type: .decimal(atLeast: 0), default: Decimal(string: "0.0001")!
    )
    public let priceEnvSec = Setting<Decimal>(
        "price-env-sec", "GLM per second of activity.", type: .decimal(atLeast: 0), default: Decimal(string: "0.00002")!
    )
    public let debitNoteInterval = Setting<Double>(
        "debit-note-interval", "Seconds between debit notes when the demand does not negotiate them.",
        type: .number(above: 0, atMost: 30 * 86_400), default: 120
    )
    public let debitNoteAcceptTimeout = Setting<Double>(
        "debit-note-accept-timeout", "Seconds a requestor has to accept a debit note when the demand does not say.",
        type: .number(above: 0, atMost: 30 * 86_400), default: 240
    )
    public let offerExpiration = Setting<Double>(
        "offer-expiration", "Seconds an offer lives before it is re-subscribed.",
        type: .number(above: 0, atMost: 30 * 86_400), default: 3600
    )
    public let workRoot = Setting<String?>(
        "work-root", "Folder for the activities' work directories.", type: .text,
        defaultNote: "$TMPDIR/golem-provider", key: "provider-work-root"
    )
    public let warmSandboxes = Setting<Int>(
        "warm-sandboxes",
        "Sandboxes started ahead, one per activity while it lives (its commands share it, as in one VM); 0: a fresh one per command.",
        type: .integer(0...64), default: 4
    )
    public let logLevel = ServeSettings().logLevel
    public let logFormat = ServeSettings().logFormat

    public init() {}
}
