import Foundation
import GolemJobs
import Logging
import Resilience
import Yagna

extension GolemBackend {
    /// The allocation and its demand decorations, created once (recovered or new) and shared.
    func session() async throws -> Session {
        let task = state.withLock { state -> Task<Session, any Error> in
            if let task = state.session { return task }
            let task = Task { [self] in try await openSession() }
            state.session = task
            return task
        }
        do {
            return try await task.value
        } catch {
            // Try again on the next call (yagna may come back).
            state.withLock { state in
                if state.session == task { state.session = nil }
            }
            if let error = error as? YagnaError {
                throw JobError(.providerFailed, "cannot open a payment allocation on yagna: \(error)")
            }
            throw error
        }
    }

    /// Rents a new provider for `key`: demand, proposals filtered by price and budget, counter,
    /// agreement, activity, deploy and start. Whatever was created is ended if this fails or the
    /// calling Task is cancelled; the demand is always unsubscribed.
    func rent(package: PackageSpec, market: MarketSpec, key: String, jobId: String, logger: Logger) async throws -> Lease {
        let session = try await session()
        let taskPackage = try await registry.taskPackage(for: package)
        let hours = market.rentHours ?? 0.5
        let demand = builder.demand(
            package: package, taskPackage: taskPackage, market: market, decorations: session.decorations, now: clock.date
        )
        let deadline = clock.now + configuration.negotiationTimeout
        var subscription = try await subscribe(demand, until: deadline)
        defer {
            let last = subscription
            background { [client, logger] in
                do { try await client.unsubscribeDemand(last) } catch {
                    logger.debug("demand unsubscribe failed", metadata: ["error": "\(error)"])
                }
            }
        }
        var log = logger
        log[metadataKey: "demand"] = "\(subscription)"
        log.debug("demand subscribed", metadata: ["package": "\(taskPackage)"])

        let counter = builder.counter(demand)
        var book = NegotiationBook(pricing: market.pricing, hours: hours, choice: market.providers)

        while clock.now < deadline {
            try Task.checkCancellation()
            // every wait ends by the deadline: the long poll asks yagna for no more than what is left
            let wait = min(configuration.pollInterval, deadline - clock.now)
            let events: [MarketEvent]
            do {
                events = try await client.demandEvents(subscription, timeout: wait)
            } catch let error as YagnaError where error.isTransient {
                log.debug("demand events failed; polling again", metadata: ["error": "\(error)"])
                try await clock.sleep(for: min(.milliseconds(200), max(deadline - clock.now, .zero)))
                continue
            } catch let error as YagnaError where error.code == .notFound {
                // yagna keeps demand subscriptions in memory: a restarted node answers 404 for ours.
                // Nothing failed on the market's side, so subscribe again and keep negotiating until
                // the same deadline (proposals countered on the lost subscription are gone with it).
                log.notice("yagna forgot the demand (restarted?); subscribing it again", metadata: ["error": "\(error)"])
                try await clock.sleep(for: min(.milliseconds(200), max(deadline - clock.now, .zero)))
                subscription = try await subscribe(demand, until: deadline)
                log[metadataKey: "demand"] = "\(subscription)"
                continue
            } catch let error as YagnaError {
                throw JobError(.providerFailed, "cannot read the demand's events: \(error)")
            }
            let step = book.take(events, available: payments.withLock { $0.ledger.available })
            for rejection in step.rejections {
                reject(subscription, rejection.proposalId, reason: rejection.reason)
            }
            for (candidate, outcome) in await sendCounters(step.counters, subscription: subscription, counter: counter, until: deadline) {
                switch outcome {
                case .success(let counterId):
                    book.countered(candidate, as: counterId)
                case .failure(let error) where error.offerIsGone:
                    book.refused(candidate.providerId, .vanished)
                case .failure(let error):
                    // timed out or failed: the provider counts as not answering; its offer stays ours
                    log.debug("counter-proposal failed", metadata: ["provider": "\(candidate.providerId)", "error": "\(error)"])
                }
            }
            try Task.checkCancellation()
            // Drafts as they arrive: the first that signs wins; the rest are left to expire with
            // the demand (unsubscribed on return).
            for draft in step.drafts where clock.now < deadline {
                switch try await sign(draft, hours: hours, key: key, until: deadline, logger: log) {
                case .lease(let lease): return lease
                case .refused(let refusal): book.refused(draft.providerId, refusal)
                }
            }
        }
        if book.onlyPriceRefusals {
            if let cost = book.cheapestOverBudgetCost {
                let available = payments.withLock { $0.ledger.available }
                throw JobError(.budgetExceeded, "the cheapest acceptable offer may cost up to \(cost) GLM for \(hours) h, but only \(available) GLM of the budget of \(configuration.budget) GLM is left")
            }
            let violations = book.priceViolations
            throw JobError(.budgetExceeded, "all \(violations.count) offers break the job's price limits (\(violations.prefix(3).joined(separator: "; ")))")
        }
        throw JobError(
            .noProvider,
            "no provider agreed within \(configuration.negotiationTimeout) (subnet \(market.subnetTag ?? configuration.subnet)): \(book.summary)"
        )
    }

    /// At most this many counter-proposals are in flight at once (each is one POST to our yagna,
    /// which forwards it to the provider's node).
    static let concurrentCounters = 8

    /// Posts a counter to every candidate, at most `concurrentCounters` at once, each bounded by the
    /// deadline. Results in the candidates' order (a timed-out call is a `.timeout` failure).
    private func sendCounters(
        _ candidates: [NegotiationBook.Candidate], subscription: String, counter: DemandOfferBase, until deadline: ContinuousClock.Instant
    ) async -> [(NegotiationBook.Candidate, Result<String, YagnaError>)] {
        guard !candidates.isEmpty else { return [] }
        let client = self.client, clock = self.clock
        var results = [Result<String, YagnaError>?](repeating: nil, count: candidates.count)
        await withTaskGroup(of: (Int, Result<String, YagnaError>).self) { group in
            var next = 0
            func add() {
                let index = next, candidate = candidates[index]
                next += 1
                group.addTask {
                    let result = await Self.beforeDeadline(deadline, on: clock) {
                        try await client.counterProposal(subscription, proposalId: candidate.proposalId, demand: counter)
                    }
                    return (index, result)
                }
            }
            while next < min(Self.concurrentCounters, candidates.count) { add() }
            for await (index, result) in group {
                results[index] = result
                if next < candidates.count { add() }
            }
        }
        return zip(candidates, results).map { ($0, $1 ?? .failure(YagnaError(.timeout, call: "counter", message: "not sent"))) }
    }

    /// Runs `work` until `deadline`: its result, or a `.timeout` failure when the deadline comes first
    /// (the work is then cancelled).
    static func beforeDeadline<T: Sendable>(
        _ deadline: ContinuousClock.Instant, on clock: any GolemClock, _ work: @escaping @Sendable () async throws -> T
    ) async -> Result<T, YagnaError> {
        await withTaskGroup(of: Result<T, YagnaError>?.self) { group in
            group.addTask {
                do { return .success(try await work()) } catch let error as YagnaError { return .failure(error) } catch {
                    return .failure(YagnaError(.timeout, call: "counter", message: "\(error)"))
                }
            }
            group.addTask {
                try? await clock.sleep(until: deadline)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .failure(YagnaError(.timeout, call: "counter", message: "the negotiation deadline passed"))
        }
    }

    /// Subscribes `demand`. While yagna is unreachable or failing (a restart), tries again with a
    /// growing pause until `deadline`; then, or on a non-transient refusal, `provider_failed`.
    private func subscribe(_ demand: DemandOfferBase, until deadline: ContinuousClock.Instant) async throws -> String {
        var pauses = Backoff(initial: .milliseconds(250), maximum: .seconds(5)).pauses()
        var pause = pauses.next()
        while true {
            do {
                // Not cancelled with the caller: once the POST is sent yagna may hold the demand, and
                // only its id in the answer lets the caller unsubscribe it. The call is bounded by
                // the client's request timeout; a cancelled caller unsubscribes right after.
                let client = self.client
                return try await Task { try await client.subscribeDemand(demand) }.value
            } catch let error as YagnaError where error.isTransient && clock.now + pause < deadline {
                logger.debug("demand subscription failed; trying again", metadata: ["error": "\(error)"])
                try await clock.sleep(for: pause)
                pause = pauses.next()
            } catch let error as YagnaError {
                throw JobError(.providerFailed, "cannot subscribe a demand: \(error)")
            }
        }
    }

    private func reject(_ subscription: String, _ proposalId: String, reason: String) {
        background { [client] in
            try? await client.rejectProposal(subscription, proposalId: proposalId, reason: reason)
        }
    }

    enum Signing {
        case lease(Lease)
        /// This provider is out (it vanished or did not approve); try the next Draft.
        case refused(NegotiationBook.Refusal)
    }

    /// Reserves the budget, signs the agreement and prepares its activity. `.refused` when this
    /// provider is gone or would not approve by the deadline (try the next); throws on cancellation,
    /// budget or setup failure.
    private func sign(_ draft: NegotiationBook.Candidate, hours: Double, key: String, until deadline: ContinuousClock.Instant, logger: Logger) async throws -> Signing {
        let terms = draft.terms
        let reservation = "negotiation-\(UUID())"
        try payments.withLock { book throws(JobError) in
            try book.reserve(BudgetLedger.amount(terms.maxCost(hours: hours)), for: reservation)
        }
        var agreementId: String?
        var activityId: String?
        do {
            let id: String
            do {
                id = try await client.createAgreement(proposalId: draft.proposalId, validTo: clock.date.addingTimeInterval(hours * 3600))
            } catch let error as YagnaError where error.offerIsGone {
                logger.info("the provider's Draft is gone", metadata: ["provider": "\(draft.providerId)", "error": "\(error)"])
                cleanUpFailedSigning(agreementId: nil, activityId: nil, reservation: reservation, approved: false)
                return .refused(.vanished)
            }
            agreementId = id
            try await store.recordAgreement(id, providerId: draft.providerId)
            payments.withLock { $0.signed(id, reservation: reservation) }
            try await client.confirmAgreement(id, appSessionId: appSessionId)
            do {
                // the approval wait ends by the negotiation's deadline too (yagna takes whole-ish seconds; at least 1)
                let left = max(deadline - clock.now, .seconds(1))
                try await client.waitForApproval(id, timeout: min(configuration.approvalTimeout, left))
            } catch let error as YagnaError where !error.isTransient || error.code == .http(408) || error.code == .timeout {
                logger.info("provider did not approve the agreement", metadata: ["provider": "\(draft.providerId)", "error": "\(error)"])
                cleanUpFailedSigning(agreementId: id, activityId: nil, reservation: reservation, approved: false)
                return .refused(.notApproved)
            }
            let provider = ProviderInfo(id: draft.providerId, name: terms.providerName.isEmpty ? draft.providerId : terms.providerName)
            var log = logger
            log[metadataKey: "agreement"] = "\(id)"
            log.info("agreement approved", metadata: ["provider": "\(provider.id)", "provider.name": "\(provider.name)"])

            let activity = try await client.createActivity(agreementId: id, timeout: configuration.deployTimeout)
            activityId = activity
            try await store.recordActivity(activity, agreementId: id)
            let results = try await runBatch(StepScript.deployAndStart, on: activity, timeout: configuration.deployTimeout)
            if let failed = results.first(where: \.isError) ?? (results.count < 2 ? results.last : nil) {
                throw JobError(.providerFailed, "provider \(provider.name) failed to deploy the image: \(failed.message ?? failed.stderr?.string ?? "no message")")
            }
            let lease = Lease(
                agreementId: id, activityId: activity, provider: provider, key: key,
                expires: clock.now + .seconds(saturating: hours * 3600)
            )
            let overcharged = rentals.withLock { state -> String? in
                if let why = state.condemned[id] { return why }
                state.leases[id] = lease
                return nil
            }
            if let overcharged {
                throw JobError(.providerFailed, "provider \(provider.name) sent a debit note over the agreed prices during setup: \(overcharged)")
            }
            log.debug("activity ready", metadata: ["activity": "\(activity)"])
            return .lease(lease)
        } catch {
            cleanUpFailedSigning(agreementId: agreementId, activityId: activityId, reservation: reservation, approved: true)
            if error is CancellationError || Task.isCancelled { throw CancellationError() }
            if let error = error as? JobError { throw error }
            if let refused = error as? BatchNotTaken { throw refused.error }
            throw JobError(.providerFailed, "renting provider \(draft.providerId) failed: \(error)")
        }
    }

    private func cleanUpFailedSigning(agreementId: String?, activityId: String?, reservation: String, approved: Bool) {
        payments.withLock { $0.signingFailed(reservation: reservation, agreementId: agreementId, approved: approved) }
        background { [self] in
            if let activityId { await destroyActivity(activityId) }
            if let agreementId {
                if approved {
                    await terminateAgreement(agreementId, reason: "the requestor stopped: setup failed or canceled")
                } else {
                    try? await client.cancelAgreement(agreementId, reason: "not approved in time")
                    try? await store.markTerminated(agreementId: agreementId)
                }
            }
        }
    }
}

extension YagnaError {
    /// The provider's offer is no longer on the market: 404/410, or, measured on yagna 0.17.6 for a
    /// counter to an unsubscribed offer, 400 "Subscription [...] was already unsubscribed."
    var offerIsGone: Bool {
        code == .notFound || code == .conflict || (code == .http(400) && (message.contains("unsubscribed") || message.contains("expired")))
    }
}
