import Foundation
import Sandbox
import Yagna

/// Everything the provider agent needs; defaults in `init`. The app key lives in `yagna` and is
/// never logged.
public struct ProviderConfiguration: Sendable {
    /// The provider node's REST API and app key.
    public var yagna: YagnaConfiguration
    /// The provider node's service bus (`tcp://host:port`, yagna's `GSB_URL`): a `transfer` from or
    /// to `gftp://` calls the requestor's file through it, as the real exe-unit does.
    public var gsbURL: String
    /// `golem.node.debug.subnet`: only demands in the same subnet match.
    public var subnet: String
    /// The payment platform offered, e.g. `erc20-hoodi-tglm`.
    public var paymentPlatform: String
    /// Advertised `golem.inf.*` resources.
    public var cpuThreads: Int
    public var memoryGiB: Double
    public var storageGiB: Double
    public var pricing: LinearPricing
    /// Debit-note interval used when the demand does not negotiate
    /// `golem.com.scheme.payu.debit-note.interval-sec?`.
    public var debitNoteInterval: Duration
    /// How long the requestor has to accept a debit note when the demand does not say
    /// (`golem.com.payment.debit-notes.accept-timeout?`); after it the agreement is terminated.
    public var debitNoteAcceptTimeout: Duration
    /// `golem.com.scheme.payu.payment-timeout-sec?` offered (ya-provider's 2 min); a demand's own,
    /// within ``NegotiationLimits/paymentTimeout``, is taken instead.
    public var paymentTimeout: Duration
    /// ya-provider's negotiation bounds the agent holds demands to (``Negotiator``).
    public var negotiation: NegotiationLimits
    /// How long a subscribed offer lives before it is re-subscribed.
    public var offerExpiration: Duration
    /// Where each activity's work directory is created (bound at `/golem/work`).
    public var workRoot: String
    /// Sandboxes started ahead (``WarmSandboxPool``), one per activity while it lives: an activity's
    /// commands run one after another in its one sandbox, as in one VM (`/tmp` and what they leave
    /// outside `/golem/work` stay until the activity ends), and it is reset when the activity ends.
    /// 0, or no `golem-sandbox-warden` beside the binary: a fresh sandbox per command.
    public var warmSandboxes: Int
    /// How commands are sandboxed, and their limits.
    public var sandbox: SandboxConfiguration
    public var limits: SandboxLimits
    /// Bytes of stdout and of stderr kept per `run` command (the rest is dropped).
    public var outputLimit: Int
    /// The largest file a `transfer` from http(s) writes.
    public var transferLimit: Int
    /// Long-poll wait of the event loops.
    public var pollTimeout: Duration
    /// `golem.node.id.name`; a nonce is appended so stale offers never match.
    public var nodeName: String
    /// Faults the agent commits on purpose so tests can prove a requestor catches them; empty
    /// unless `GOLEM_BRIDGE_PROVIDER_TEST_FAULTS` names some (never in production).
    public var injectedFaults: Set<InjectedFault> = []

    public init(
        yagna: YagnaConfiguration,
        gsbURL: String = "tcp://127.0.0.1:7464",
        subnet: String = "public",
        paymentPlatform: String = "erc20-hoodi-tglm",
        cpuThreads: Int = 2,
        memoryGiB: Double = 4,
        storageGiB: Double = 20,
        pricing: LinearPricing = LinearPricing(),
        debitNoteInterval: Duration = .seconds(120),
        debitNoteAcceptTimeout: Duration = .seconds(240),
        paymentTimeout: Duration = .seconds(120),
        negotiation: NegotiationLimits = NegotiationLimits(),
        offerExpiration: Duration = .seconds(3600),
        workRoot: String = NSTemporaryDirectory() + "golem-provider",
        warmSandboxes: Int = 4,
        sandbox: SandboxConfiguration = SandboxConfiguration(),
        limits: SandboxLimits = SandboxLimits(),
        outputLimit: Int = 16 << 20,
        transferLimit: Int = 256 << 20,
        pollTimeout: Duration = .seconds(5),
        nodeName: String = "golem-bridge-local-provider"
    ) {
        self.yagna = yagna
        self.gsbURL = gsbURL
        self.subnet = subnet
        self.paymentPlatform = paymentPlatform
        self.cpuThreads = cpuThreads
        self.memoryGiB = memoryGiB
        self.storageGiB = storageGiB
        self.pricing = pricing
        self.debitNoteInterval = debitNoteInterval
        self.debitNoteAcceptTimeout = debitNoteAcceptTimeout
        self.paymentTimeout = paymentTimeout
        self.negotiation = negotiation
        self.offerExpiration = offerExpiration
        self.workRoot = workRoot
        self.warmSandboxes = warmSandboxes
        self.sandbox = sandbox
        self.limits = limits
        self.outputLimit = outputLimit
        self.transferLimit = transferLimit
        self.pollTimeout = pollTimeout
        self.nodeName = nodeName
    }
}

/// A fault the agent commits on purpose (``ProviderConfiguration/injectedFaults``).
public enum InjectedFault: String, Sendable, CaseIterable {
    /// A `transfer` to `gftp://` sends every chunk but the last, then `UploadFinished` with the
    /// whole file's hash: the requestor must refuse the file and name why.
    case gftpDropLastChunk = "gftp-drop-last-chunk"
}
