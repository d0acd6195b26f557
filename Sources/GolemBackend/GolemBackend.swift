import CoreMetrics
import Foundation
import GolemJobs
import Logging
import Synchronization
import Yagna

/// A ``JobBackend`` that runs jobs on Golem providers through a yagna node's REST API, as golem-js
/// does, with one long-lived allocation, a rental pool, cancel in every phase and budget checks
/// before anything is signed.
///
/// `acquire` lends a ready rental (agreement + deployed activity) whose requirements match the job's
/// package and market, or negotiates a new one. ``GolemBackendService`` runs the background work
/// (recovery at start, pre-fill to `--pool-min`, payments, idle eviction, cleanup at shutdown); run
/// it next to the bridge.
public final class GolemBackend: JobBackend {
    public let configuration: GolemBackendConfiguration
    let client: YagnaClient
    let store: any RentalStore
    let registry: ImageRegistry
    let builder: DemandBuilder
    let logger: Logger
    /// One per process: agreements are confirmed with it (payment events can be told apart by it).
    let appSessionId: String
    let paymentMetrics: PaymentMetrics
    /// Every time this backend reads or waits for (``GolemClock``).
    let clock: any GolemClock

    struct Session: Sendable {
        var allocationId: String
        var decorations: DemandDecorations
    }

    /// The session seam: the allocation, this node's id, and background cleanups in flight.
    struct State {
        var session: Task<Session, any Error>?
        /// Cleanup work in flight (destroy, terminate, unsubscribe), awaited at shutdown.
        var cleanups: [UUID: Task<Void, Never>] = [:]
        /// This requestor's node id (`GET /me`), once asked: GFTP URLs name it.
        var nodeId: String?
    }

    // Three locks, one per seam; no code holds two at once (each section reads or decides, then
    // releases before the next), so there is no lock order to keep. What spans two seams is done
    // in steps whose order is safe: a rental is reserved for (`payments`) before it is lent
    // (`rentals`), and its reservation is freed by its invoice (`payments`) before its condemnation
    // is forgotten (`rentals`).
    let state: Mutex<State>
    /// The rental pool seam.
    let rentals: Mutex<Rentals>
    /// The payments seam: the budget, what is owed, what was spent.
    let payments: Mutex<PaymentBook>

    /// `metrics` makes the payment counters (docs/metrics.md); the process's bootstrapped one by default.
    /// `clock` is the machine's by default; tests pass one they move by hand.
    public init(
        configuration: GolemBackendConfiguration, store: any RentalStore, logger: Logger,
        metrics: any MetricsFactory = MetricsSystem.factory, clock: any GolemClock = SystemGolemClock()
    ) {
        self.configuration = configuration
        var yagnaLogger = logger
        yagnaLogger[metadataKey: "backend"] = "golem"
        self.client = YagnaClient(configuration: configuration.yagna, logger: yagnaLogger)
        self.store = store
        self.registry = ImageRegistry(baseURL: configuration.registryURL, timeout: configuration.yagna.requestTimeout)
        self.builder = DemandBuilder(
            subnet: configuration.subnet, platform: configuration.platform,
            debitNoteAcceptTimeout: configuration.debitNoteAcceptTimeout,
            debitNoteInterval: configuration.debitNoteInterval, paymentTimeout: configuration.paymentTimeout
        )
        self.logger = yagnaLogger
        self.appSessionId = "golem-bridge-\(UUID().uuidString.lowercased().prefix(13))"
        self.paymentMetrics = PaymentMetrics(factory: metrics)
        self.clock = clock
        self.state = Mutex(State())
        self.rentals = Mutex(Rentals(policy: configuration.pool))
        self.payments = Mutex(PaymentBook(budget: configuration.budget))
    }

    // MARK: - JobBackend

    public func acquire(jobId: String, spec: JobSpec, attempt: Int, logger: Logger) async throws -> any JobRental {
        let (lease, reused) = try await lease(jobId: jobId, spec: spec, logger: logger)
        return GolemRental(backend: self, lease: lease, spec: spec, jobId: jobId, proven: !reused)
    }

    /// A rental for the job: an idle, cleaned one of its requirements (`reused`), or a new one.
    /// No call to the provider on reuse: the job's first batch shows whether the activity still runs
    /// (``GolemRental``), so a warm job costs one batch.
    func lease(jobId: String, spec: JobSpec, logger: Logger) async throws -> (Lease, reused: Bool) {
        let (package, market, key) = requirements(package: spec.package, market: spec.market)
        while true {
            try Task.checkCancellation()
            let decision = try rentals.withLock { state throws(JobError) in
                if state.closed { throw JobError(.interrupted, "the Golem backend is shutting down") }
                return state.pool.acquire(key: key, now: clock.now)
            }
            switch decision {
            case .reuse(let agreementId):
                guard let lease = rentals.withLock({ $0.leases[agreementId] }) else {
                    rentals.withLock { $0.pool.destroyed() }
                    continue
                }
                logger.debug("reusing a rental", metadata: ["agreement": "\(agreementId)", "provider": "\(lease.provider.id)"])
                return (lease, true)
            case .create(let evicting):
                for id in evicting {
                    if let lease = rentals.withLock({ $0.leases[id] }) { end(lease, reason: "evicted for other requirements") }
                }
                do {
                    return (try await rent(package: package, market: market, key: key, jobId: jobId, logger: logger), false)
                } catch {
                    rentals.withLock { $0.pool.destroyed() }
                    wakeWaiters()
                    throw error
                }
            case .wait:
                try await waitForRelease()
            }
        }
    }

    /// A reused lease did not take the job's first batch and its activity is gone: end it and lend
    /// the job another (no command of the job ran on it, so nothing is lost or run twice).
    func replace(_ lease: Lease, why: String, jobId: String, spec: JobSpec, logger: Logger) async throws -> (Lease, reused: Bool) {
        logger.notice("a pooled rental's activity is gone; the job moves to another rental", metadata: [
            "agreement": "\(lease.agreementId)", "provider": "\(lease.provider.id)", "state": "\(why)",
        ])
        rentals.withLock { $0.pool.destroyed() }
        end(lease, reason: "its activity is gone: \(why)")
        wakeWaiters()
        return try await self.lease(jobId: jobId, spec: spec, logger: logger)
    }

    /// What a rental must offer for a job with this package and market (the defaults where it names
    /// none), and the key under which such rentals are shared: jobs with other `market.providers`
    /// or another subnet never share one, so an excluded provider's rental is never lent to the job.
    func requirements(package: PackageSpec?, market: MarketSpec?) -> (PackageSpec, MarketSpec, key: String) {
        let package = package ?? configuration.defaultPackage
        let market = MarketSpec(
            rentHours: market?.rentHours ?? configuration.defaultMarket.rentHours ?? 0.5,
            pricing: market?.pricing ?? configuration.defaultMarket.pricing,
            providers: market?.providers ?? configuration.defaultMarket.providers,
            subnetTag: market?.subnetTag ?? configuration.defaultMarket.subnetTag
        )
        return (package, market, "\(package)|\(market)")
    }

    // MARK: - Pool bookkeeping

    /// A job is done with `lease`: keep it for the next compatible job, or end it. A kept one is
    /// lendable at once when the job's last batch `cleaned` its work folder; otherwise it is cleaned
    /// in the background (the job's `ended` does not wait for it) and lent only after that, and one
    /// whose cleanup fails is ended.
    func giveBack(_ lease: Lease, healthy: Bool, cleaned: Bool = false) async {
        let (destroy, condemned) = rentals.withLock { state in
            // ended already by `condemn`: only its pool slot is freed here
            let condemned = state.condemned[lease.agreementId] != nil
            if state.closed || condemned {
                if condemned { state.pool.destroyed() }
                return (true, condemned)
            }
            let destroy = state.pool.release(lease.agreementId, key: lease.key, healthy: healthy, expires: lease.expires, now: clock.now)
            if !destroy, cleaned { _ = state.pool.cleaned(lease.agreementId, ok: true) }
            return (destroy, false)
        }
        if condemned {
            wakeWaiters()
            return
        }
        if destroy {
            end(lease, reason: healthy ? "no longer needed" : "the job failed or was canceled on it")
            wakeWaiters()
            return
        }
        if cleaned {
            wakeWaiters()
            return
        }
        background { [self] in
            let ok = await clean(lease)
            if rentals.withLock({ $0.pool.cleaned(lease.agreementId, ok: ok) }) {
                end(lease, reason: "its cleanup after a job failed")
            }
            wakeWaiters()
        }
    }

    /// Ends idle rentals past their idle timeout or near expiry.
    func evictIdle() {
        let now = clock.now
        payments.withLock { $0.stopWaiting(now: now, invoiceWait: configuration.invoiceWait) }
        let leases = rentals.withLock { state in state.pool.evict(now: now).compactMap { state.leases[$0] } }
        for lease in leases { end(lease, reason: "idle") }
    }

    /// Ends idle rentals their provider no longer holds (agreement not Approved, activity not
    /// Ready), so they are dropped now rather than found dead by the next job, and a pool with a
    /// minimum replaces them. An unanswered check keeps the rental: the next job's first batch
    /// still finds a dead one (``GolemRental``).
    func checkIdle() async {
        let idle = rentals.withLock { state in state.pool.idle.compactMap { state.leases[$0.id] } }
        for lease in idle {
            var why: String?
            do {
                let agreement = try await client.agreement(lease.agreementId)
                if agreement.state != "Approved" {
                    why = "agreement \(agreement.state)"
                } else {
                    let activity = try await client.activityState(lease.activityId)
                    if activity.current != "Ready" { why = "activity \(activity.current)" }
                }
            } catch let error as YagnaError where error.code == .notFound {
                why = "unknown to yagna"
            } catch {
                continue
            }
            guard let why, rentals.withLock({ $0.pool.lost(lease.agreementId) }) else { continue }
            logger.notice("an idle rental is no longer held by its provider; ending it", metadata: [
                "agreement": "\(lease.agreementId)", "provider": "\(lease.provider.id)", "state": "\(why)",
            ])
            end(lease, reason: "no longer usable: \(why)")
            wakeWaiters()
        }
    }

    private func waitForRelease() async throws {
        let token = UUID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = rentals.withLock { state -> Bool in
                    if Task.isCancelled || state.closed { return true }
                    state.waiters[token] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            rentals.withLock { $0.waiters.removeValue(forKey: token) }?.resume()
        }
        try Task.checkCancellation()
    }

    func wakeWaiters() {
        let waiters = rentals.withLock { $0.takeWaiters() }
        for waiter in waiters { waiter.resume() }
    }

    /// Runs cleanup outside the caller's Task (which may be cancelled), tracked for shutdown.
    func background(_ work: @escaping @Sendable () async -> Void) {
        let token = UUID()
        // Registered under the lock before the task can finish and deregister itself.
        state.withLock { state in
            state.cleanups[token] = Task { [self] in
                await work()
                _ = self.state.withLock { $0.cleanups.removeValue(forKey: token) }
            }
        }
    }

    /// Destroys the lease's activity and terminates its agreement, in the background.
    func end(_ lease: Lease, reason: String) {
        _ = rentals.withLock { $0.leases.removeValue(forKey: lease.agreementId) }
        background { [self] in
            await destroyActivity(lease.activityId)
            await terminateAgreement(lease.agreementId, reason: reason)
        }
    }

    /// Runs a cleanup call. With `persist`, transient failures (yagna shutting down or restarting:
    /// "connection refused", HTTP 500 "… is unavailable") are retried for `cleanupPersistence`,
    /// but not once the backend is shutting down; then the last error is thrown.
    private func cleanup(persist: Bool, _ call: () async throws -> Void) async throws {
        var retry = TransientRetry(window: persist ? configuration.cleanupPersistence : .zero, firstPause: .seconds(1))
        while true {
            let started = clock.now
            do {
                return try await call()
            } catch let error as YagnaError where error.isTransient {
                guard !rentals.withLock({ $0.closed }), let pause = retry.failed(started: started, now: clock.now) else { throw error }
                if retry.failures == 1 {
                    logger.info("yagna failed a cleanup call; trying again", metadata: ["error": "\(error)"])
                }
                try? await clock.sleep(for: pause)
            }
        }
    }

    func destroyActivity(_ activityId: String, persist: Bool = true) async {
        do {
            try await cleanup(persist: persist) {
                try await client.destroyActivity(activityId, timeout: configuration.cleanupTimeout)
            }
            try? await store.forgetActivity(activityId)
        } catch let error as YagnaError where error.message.contains("Not found") {
            // yagna 0.17 answers 500 "DAO error: Not found" for an activity it does not know.
            try? await store.forgetActivity(activityId)
        } catch {
            logger.warning("could not destroy an activity; the next start retries", metadata: ["activity": "\(activityId)", "error": "\(error)"])
        }
    }

    func terminateAgreement(_ agreementId: String, reason: String, persist: Bool = true) async {
        do {
            try await cleanup(persist: persist) {
                try await client.terminateAgreement(agreementId, reason: reason)
            }
            try? await store.markTerminated(agreementId: agreementId)
            let now = clock.now
            payments.withLock { $0.terminated(agreementId, at: now) }
            logger.debug("agreement terminated", metadata: ["agreement": "\(agreementId)", "reason": "\(reason)"])
        } catch let error as YagnaError where error.code == .notFound {
            // yagna does not know it: nothing rented, nothing owed.
            try? await store.forgetAgreement(agreementId)
            payments.withLock { $0.unknown(agreementId) }
        } catch {
            logger.warning("could not terminate an agreement; the next start retries", metadata: ["agreement": "\(agreementId)", "error": "\(error)"])
        }
    }

    /// Pool figures, for tests and logs.
    public var poolSize: (idle: Int, busy: Int, filling: Int) {
        rentals.withLock { ($0.pool.idle.count, $0.pool.busy, $0.pool.filling) }
    }

    /// GLM reserved by live or unpaid agreements.
    public var reserved: Decimal { payments.withLock { $0.ledger.reserved } }
}
