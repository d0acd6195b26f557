/// The rental pool's decisions (golem-js 3 `ResourceRentalPool` semantics) as a value-type state
/// machine: inputs are acquire/release/evict calls with the time, outputs say what to do. No I/O.
///
/// - `acquire` lends an idle rental with the same requirements key (most recently used first), else
///   creates one while below `maxSize` (destroying an idle rental of another key to make room), else
///   the caller waits for a release. With reuse off (`maxSize` 0) it always creates: the engine's
///   concurrency is the only bound.
/// - `release` keeps a healthy rental idle while reuse is on, but not lendable until `cleaned`: the
///   previous job's files are removed in the background, off the next job's path; a failed one (or one
///   whose cleanup failed) is destroyed. A job that finds only a cleaning rental of its key waits for it
///   rather than renting a new one (a cleanup takes one batch, a new rental about a second).
/// - `evict` destroys idle rentals past `idleTimeout` (keeping `minSize`) and any near expiry.
/// - `startFilling` says how many rentals to create in the background so the pool holds `minSize`
///   (golem-js `min`): at start, and again whenever one is destroyed. Idle, lent and being-created
///   rentals all count, so lending a pre-filled rental does not rent another; losing one does.
///   `filled` keeps a created one idle; `fillFailed` frees its slot; `lost` drops an idle one found dead.
public struct RentalPoolState<ID: Hashable & Sendable>: Sendable {
    public typealias Instant = ContinuousClock.Instant

    public struct Idle: Sendable, Hashable {
        public var id: ID
        public var key: String
        public var since: Instant
        public var expires: Instant
        /// Kept after a job and not yet `cleaned`: not lent meanwhile.
        public var cleaning = false
    }

    public enum Acquire: Sendable, Hashable {
        /// Lend this idle, cleaned rental. Its activity is proven alive by the job's first batch: if that
        /// batch is not taken, `destroyed` it and acquire again.
        case reuse(ID)
        /// Create a new rental; first destroy these idle ones to make room.
        case create(evicting: [ID])
        /// A rental of this key is being cleaned, or at `maxSize` there is nothing to reuse or evict:
        /// wait for a release or a cleanup to finish, then acquire again.
        case wait
    }

    public let policy: RentalPoolPolicy
    public private(set) var idle: [Idle] = []
    /// Lent out or being created for a job.
    public private(set) var busy = 0
    /// Being created in the background to reach `minSize`, lent to nobody yet.
    public private(set) var filling = 0

    public init(policy: RentalPoolPolicy) {
        self.policy = policy
    }

    /// Every rental held or being created: what `maxSize` bounds.
    public var size: Int { idle.count + busy + filling }

    /// How many rentals to start creating so the pool holds `policy.minSize`, counting idle, lent and
    /// being-created ones alike, never taking it above `policy.maxSize`. 0 with reuse off.
    public static func shortfall(idle: Int, busy: Int, filling: Int, policy: RentalPoolPolicy) -> Int {
        guard policy.reuses else { return 0 }
        let size = idle + busy + filling
        return max(0, min(policy.minSize - size, policy.maxSize - size))
    }

    public mutating func acquire(key: String, now: Instant) -> Acquire {
        let margin = policy.expiryMargin
        let fits = { (entry: Idle) in entry.key == key && entry.expires - margin > now }
        if let index = idle.lastIndex(where: { fits($0) && !$0.cleaning }) {
            let entry = idle.remove(at: index)
            busy += 1
            return .reuse(entry.id)
        }
        // One is nearly ready (a cleanup batch, tens of ms): cheaper to wait than to rent (≈ 1 s).
        if idle.contains(where: fits) { return .wait }
        // Reuse off (maxSize 0): every job rents its own, as many at once as the engine lets jobs run
        // (its concurrency bounds the acquires); the pool only counts them.
        if !policy.reuses || size < policy.maxSize {
            busy += 1
            return .create(evicting: [])
        }
        // Make room: the least recently used idle rental of another key goes.
        if !idle.isEmpty {
            let victim = idle.removeFirst()
            busy += 1
            return .create(evicting: [victim.id])
        }
        return .wait
    }

    /// A lent or creating rental came back. Returns whether to destroy it (`true`) or keep it idle
    /// (`false`): then clean it and report with `cleaned`; it is not lent before.
    public mutating func release(_ id: ID, key: String, healthy: Bool, expires: Instant, now: Instant) -> Bool {
        busy = max(0, busy - 1)
        guard healthy, policy.reuses, expires - policy.expiryMargin > now, size < policy.maxSize else { return true }
        idle.append(Idle(id: id, key: key, since: now, expires: expires, cleaning: true))
        return false
    }

    /// The cleanup of a released rental finished: lendable when `ok`, else dropped. Returns whether
    /// the caller must destroy it (`true` only when it failed and was still idle here; one evicted,
    /// drained or found dead meanwhile was destroyed by whoever took it out).
    public mutating func cleaned(_ id: ID, ok: Bool) -> Bool {
        guard let index = idle.firstIndex(where: { $0.id == id && $0.cleaning }) else { return false }
        if ok {
            idle[index].cleaning = false
            return false
        }
        idle.remove(at: index)
        return true
    }

    /// A creation failed, or a rental that was lent was destroyed: its slot is free.
    public mutating func destroyed() {
        busy = max(0, busy - 1)
    }

    /// Reserves the slots of the rentals to create now to reach `minSize`; returns how many. Each
    /// ends with `filled` or `fillFailed`.
    public mutating func startFilling() -> Int {
        let count = Self.shortfall(idle: idle.count, busy: busy, filling: filling, policy: policy)
        filling += count
        return count
    }

    /// A pre-fill rental is ready: keep it idle, or return `true` to destroy it (it expires too soon,
    /// or the pool shrank meanwhile).
    public mutating func filled(_ id: ID, key: String, expires: Instant, now: Instant) -> Bool {
        filling = max(0, filling - 1)
        guard policy.reuses, expires - policy.expiryMargin > now, size < policy.maxSize else { return true }
        idle.append(Idle(id: id, key: key, since: now, expires: expires))
        return false
    }

    /// A pre-fill creation failed or was cancelled: its slot is free.
    public mutating func fillFailed() {
        filling = max(0, filling - 1)
    }

    /// An idle rental found dead (its provider ended the agreement or the activity): drop it, so the
    /// pool replaces it. `false` when it is no longer idle (lent meanwhile: the job's first batch decides).
    public mutating func lost(_ id: ID) -> Bool {
        guard let index = idle.firstIndex(where: { $0.id == id }) else { return false }
        idle.remove(at: index)
        return true
    }

    /// Idle rentals to destroy now: past `idleTimeout` beyond `minSize`, or near their expiry.
    public mutating func evict(now: Instant) -> [ID] {
        var evicted: [ID] = []
        idle.removeAll { entry in
            guard entry.expires - policy.expiryMargin <= now else { return false }
            evicted.append(entry.id)
            return true
        }
        while idle.count > policy.minSize, let oldest = idle.first, now - oldest.since >= policy.idleTimeout {
            evicted.append(idle.removeFirst().id)
        }
        return evicted
    }

    /// Everything idle, for shutdown.
    public mutating func drain() -> [ID] {
        defer { idle = [] }
        return idle.map(\.id)
    }
}
