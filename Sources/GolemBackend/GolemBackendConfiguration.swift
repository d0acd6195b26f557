import Foundation
import GolemJobs
import Yagna

/// Everything the Golem backend needs: where yagna is, how to pay, what to ask for by default, and
/// the bounds of every wait. Defaults are in `init`; the executable fills it from flags, env and file.
public struct GolemBackendConfiguration: Sendable, CustomStringConvertible {
    /// yagna's REST API and app key (never logged).
    public var yagna: YagnaConfiguration
    /// `erc20`; the platform is `<driver>-<network>-<token>`.
    public var paymentDriver: String
    /// `hoodi` (the testnet golem-js and yagna 0.17 default to, tGLM), `polygon` for mainnet GLM;
    /// also `holesky` and the others yagna's erc20 driver knows.
    public var paymentNetwork: String
    /// Overrides the platform derived from driver and network (e.g. `erc20-hoodi-tglm`).
    public var paymentPlatform: String?
    /// `golem.node.debug.subnet` of the demand; providers outside it never match.
    public var subnet: String
    /// The global budget in GLM: the allocation's total. No agreement is signed past it.
    public var budget: Decimal
    /// How long the allocation stays valid from its creation, and from each hourly extension while
    /// the backend runs (``GolemBackendService``).
    public var allocationLifetime: Duration
    /// The package for jobs that name none. The local network serves no registry, so a hash + URL.
    public var defaultPackage: PackageSpec
    /// Rental terms for jobs that name none.
    public var defaultMarket: MarketSpec
    /// Where image tags are resolved (`/v1/image/info`).
    public var registryURL: String
    /// How long to look for an acceptable offer before the attempt fails with `no_provider`.
    public var negotiationTimeout: Duration
    /// How long the provider may take to approve an agreement.
    public var approvalTimeout: Duration
    /// How long activity creation and deploy/start may take.
    public var deployTimeout: Duration
    /// One long-poll's wait (market events, batch results, payment events).
    public var pollInterval: Duration
    /// Bound of cleanup calls (destroy activity, terminate agreement, unsubscribe).
    public var cleanupTimeout: Duration
    /// How long a running batch's results may stay unreadable (yagna shutting down or restarting, the
    /// provider's node rejoining the net) before the provider counts as failed.
    public var outageTolerance: Duration
    /// How long ending a rental (destroy its activity, terminate its agreement) is retried while yagna
    /// fails transiently, e.g. across a restart. Until it ends, the agreement keeps its budget
    /// reservation; after this, or at shutdown, the state file leaves it to the next start.
    public var cleanupPersistence: Duration
    /// The rental pool: most rentals kept (idle or busy), fewest kept idle, and how long an idle one lives.
    public var pool: RentalPoolPolicy
    /// `golem.com.payment.debit-notes.accept-timeout?` we propose, in seconds (golem-js: 120;
    /// ya-provider refuses more than its own, 240 by default, and less than 5).
    public var debitNoteAcceptTimeout: Int
    /// `golem.com.scheme.payu.payment-timeout-sec?` we propose (golem-js: 12 h; ya-provider takes
    /// 1 s … 24 h): debit notes accepted during a longer rental are paid within it.
    public var paymentTimeout: Int
    /// `golem.com.scheme.payu.debit-note.interval-sec?` we propose: seconds between debit notes.
    public var debitNoteInterval: Int
    /// How long a terminated agreement's budget stays reserved waiting for its invoice (a late
    /// invoice is still accepted; only the reservation goes).
    public var invoiceWait: Duration
    /// The largest upload or download one step may move, in bytes.
    public var transferLimit: Int
    /// How `uploadData`/`downloadData` steps move files. GFTP by default, as golem-js does;
    /// `.verifiedStdout` is kept for images or providers where GFTP cannot run.
    public var fileTransfers: FileTransfers = .gftp
    /// The most of a streaming `run`'s stdout, and of its stderr, that the step keeps and its
    /// `progress` events carry: the `limit` of the stream capture the provider is asked for (it keeps
    /// no more for the final result). A `run` without `stream` asks for its output whole, as before.
    /// 1 MiB, as the local backend: its result, bytes as a JSON array, stays well inside
    /// ``YagnaConfiguration/maxResponseBytes``.
    public var outputLimit: Int = 1 << 20
    /// The SQLite file that records allocation, agreement and activity IDs for recovery after a crash.
    public var statePath: String

    public init(
        yagna: YagnaConfiguration,
        paymentDriver: String = "erc20",
        paymentNetwork: String = "hoodi",
        paymentPlatform: String? = nil,
        subnet: String = "public",
        budget: Decimal = 5,
        allocationLifetime: Duration = .seconds(24 * 3600),
        defaultPackage: PackageSpec = PackageSpec(imageTag: "golem/alpine:latest"),
        defaultMarket: MarketSpec = MarketSpec(
            rentHours: 0.5, pricing: .linear(maxStartPrice: 0.5, maxCpuPerHourPrice: 1.0, maxEnvPerHourPrice: 0.5)
        ),
        registryURL: String = "https://registry.golem.network",
        negotiationTimeout: Duration = .seconds(30),
        approvalTimeout: Duration = .seconds(30),
        deployTimeout: Duration = .seconds(300),
        pollInterval: Duration = .seconds(5),
        cleanupTimeout: Duration = .seconds(10),
        outageTolerance: Duration = .seconds(60),
        cleanupPersistence: Duration = .seconds(600),
        pool: RentalPoolPolicy = RentalPoolPolicy(),
        debitNoteAcceptTimeout: Int = 120,
        paymentTimeout: Int = 12 * 3600,
        debitNoteInterval: Int = 120,
        invoiceWait: Duration = .seconds(3600),
        transferLimit: Int = 16 << 20,
        statePath: String = "golem-bridge-golem.sqlite"
    ) {
        self.yagna = yagna
        self.paymentDriver = paymentDriver
        self.paymentNetwork = paymentNetwork
        self.paymentPlatform = paymentPlatform
        self.subnet = subnet
        self.budget = budget
        self.allocationLifetime = allocationLifetime
        self.defaultPackage = defaultPackage
        self.defaultMarket = defaultMarket
        self.registryURL = registryURL
        self.negotiationTimeout = negotiationTimeout
        self.approvalTimeout = approvalTimeout
        self.deployTimeout = deployTimeout
        self.pollInterval = pollInterval
        self.cleanupTimeout = cleanupTimeout
        self.outageTolerance = outageTolerance
        self.cleanupPersistence = cleanupPersistence
        self.pool = pool
        self.debitNoteAcceptTimeout = debitNoteAcceptTimeout
        self.paymentTimeout = paymentTimeout
        self.debitNoteInterval = debitNoteInterval
        self.invoiceWait = invoiceWait
        self.transferLimit = transferLimit
        self.statePath = statePath
    }

    /// The payment platform: the explicit one, else `<driver>-<network>-<token>` (glm on mainnet and polygon).
    public var platform: String {
        if let paymentPlatform { return paymentPlatform }
        let token = ["mainnet", "polygon"].contains(paymentNetwork) ? "glm" : "tglm"
        return "\(paymentDriver)-\(paymentNetwork)-\(token)"
    }

    public var description: String {
        "GolemBackendConfiguration(yagna: \(yagna), platform: \(platform), subnet: \(subnet), budget: \(budget), pool: \(pool))"
    }
}

/// How files move between the bridge and a provider.
public enum FileTransfers: String, Sendable, CaseIterable {
    /// GFTP over yagna's bus (``GFTP/GFTPService``): the ExeScript `transfer` command with a
    /// `gftp://` URL; downloads checked by the SHA3-256 the provider sends, uploads by a `sha256sum` run.
    case gftp
    /// base64 through `run` commands and captured stdout, chunked and verified (``VerifiedTransfer``).
    case verifiedStdout
}
