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

/// Rental terms, as golem-js 3's `MarketOrderSpec.market`.
public struct MarketSpec: Sendable, Hashable {
    public var rentHours: Double?
    public var pricing: Pricing?

    public init(rentHours: Double? = nil, pricing: Pricing? = nil) {
        self.rentHours = rentHours
        self.pricing = pricing
    }
}

/// Price limits a provider's offer must meet.
public enum Pricing: Sendable, Hashable {
    /// Per-unit limits in GLM: start fee, CPU per hour, environment per hour.
    case linear(maxStartPrice: Double, maxCpuPerHourPrice: Double, maxEnvPerHourPrice: Double)
    /// An average spend limit in GLM per hour.
    case burnRate(avgGlmPerHour: Double)
}
