/// What a job asks for: an image, the market terms, and the steps to run in order on one provider.
///
/// This is the core's view of the contract's job request, already validated. The wire format
/// (JSON, field names, limits) belongs to the Bridge's codec; the core never parses bytes.
public struct JobSpec: Sendable, Hashable {
    /// The image and the resources the job needs. `nil` takes the bridge's configured default.
    public var package: PackageSpec?
    /// Rental terms and price limits. `nil` takes the bridge's configured default.
    public var market: MarketSpec?
    /// The steps, run in order on one provider. Never empty.
    public var work: [WorkStep]
    /// The whole job's deadline, from `created` to its end. `nil` means no deadline.
    public var timeout: Duration?
    /// How often the job is tried after a provider or backend failure (never after its own command failed).
    public var maxAttempts: Int
    /// String pairs echoed in every event.
    public var labels: [String: String]

    public init(
        package: PackageSpec? = nil,
        market: MarketSpec? = nil,
        work: [WorkStep],
        timeout: Duration? = nil,
        maxAttempts: Int = 1,
        labels: [String: String] = [:]
    ) {
        self.package = package
        self.market = market
        self.work = work
        self.timeout = timeout
        self.maxAttempts = maxAttempts
        self.labels = labels
    }
}

/// The image and resource demands, named as in golem-js.
public struct PackageSpec: Sendable, Hashable {
    public var imageTag: String?
    public var imageHash: String?
    public var imageUrl: String?
    public var minCpuCores: Int?
    public var minCpuThreads: Int?
    public var minMemGib: Double?
    public var minStorageGib: Double?
    public var capabilities: [String]
    public var runtime: String?

    public init(
        imageTag: String? = nil, imageHash: String? = nil, imageUrl: String? = nil,
        minCpuCores: Int? = nil, minCpuThreads: Int? = nil, minMemGib: Double? = nil,
        minStorageGib: Double? = nil, capabilities: [String] = [], runtime: String? = nil
    ) {
        self.imageTag = imageTag
        self.imageHash = imageHash
        self.imageUrl = imageUrl
        self.minCpuCores = minCpuCores
        self.minCpuThreads = minCpuThreads
        self.minMemGib = minMemGib
        self.minStorageGib = minStorageGib
        self.capabilities = capabilities
        self.runtime = runtime
    }
}

/// Rental terms, as golem-js 3's `MarketOrderSpec.market` (with `subnetTag` from its `demand`).
public struct MarketSpec: Sendable, Hashable {
    public var rentHours: Double?
    public var pricing: Pricing?
    /// Which providers may be rented, and which win a tie on price. `nil`: any.
    public var providers: ProviderChoice?
    /// The subnet of the demand (`golem.node.debug.subnet`); `nil` takes the bridge's.
    public var subnetTag: String?

    public init(rentHours: Double? = nil, pricing: Pricing? = nil, providers: ProviderChoice? = nil, subnetTag: String? = nil) {
        self.rentHours = rentHours
        self.pricing = pricing
        self.providers = providers
        self.subnetTag = subnetTag
    }
}

/// The request's `market.providers`: golem-js's `offerProposalFilter` helpers
/// (`allowProvidersById/ByName`, `disallowProvidersById/ByName`) and a preference, as data.
///
/// An entry that is a node address (`0x` and 40 hex digits) names a provider by id, any other
/// entry by `golem.node.id.name`. Names are chosen by providers and are not unique, so only ids
/// identify one: an address entry never matches a name (a provider cannot pose as another by
/// naming itself with its address).
public struct ProviderChoice: Sendable, Hashable {
    /// Only these may be rented; empty means any.
    public var only: [String]
    /// Never rented (never countered).
    public var exclude: [String]
    /// Win a tie on price against the others.
    public var prefer: [String]

    public init(only: [String] = [], exclude: [String] = [], prefer: [String] = []) {
        self.only = only
        self.exclude = exclude
        self.prefer = prefer
    }

    /// Whether `entry` names a provider by id (a node address) rather than by name.
    public static func isAddress(_ entry: String) -> Bool {
        let utf8 = entry.utf8
        guard utf8.count == 42, entry.hasPrefix("0x") || entry.hasPrefix("0X") else { return false }
        return utf8.dropFirst(2).allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66)
        }
    }

    /// Whether one of `entries` names the provider with this id and name (ids compared without case).
    public static func names(_ entries: [String], id: String, name: String) -> Bool {
        entries.contains { entry in
            isAddress(entry) ? entry.lowercased() == id.lowercased() : entry == name
        }
    }

    /// Whether the provider may be countered: in `only` (when given) and not in `exclude`.
    public func allows(id: String, name: String) -> Bool {
        (only.isEmpty || Self.names(only, id: id, name: name)) && !Self.names(exclude, id: id, name: name)
    }

    /// Whether the provider is preferred.
    public func prefers(id: String, name: String) -> Bool {
        Self.names(prefer, id: id, name: name)
    }
}

/// Price limits a provider's offer must meet.
public enum Pricing: Sendable, Hashable {
    /// Per-unit limits in GLM: start fee, CPU per hour, environment per hour.
    case linear(maxStartPrice: Double, maxCpuPerHourPrice: Double, maxEnvPerHourPrice: Double)
    /// An average spend limit in GLM per hour.
    case burnRate(avgGlmPerHour: Double)
}
