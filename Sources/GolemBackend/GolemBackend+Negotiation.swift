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
            package: package, taskPackage: taskPackage, market: market, decorations: session.decorations, now: Date()
        )
        let clock = ContinuousClock()
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
        var countered: [String: OfferTerms] = [:]
        var refusals: [String] = []
        var budgetRefusal: JobError?
        var offers = 0

        while clock.now < deadline {
            try Task.checkCancellation()
            let wait = min(configuration.pollInterval, deadline - clock.now)
            let events: [MarketEvent]
            do {
                events = try await client.demandEvents(subscription, timeout: max(wait, .milliseconds(100)))
            } catch let error as YagnaError where error.isTransient {
                log.debug("demand events failed; polling again", metadata: ["error": "\(error)"])
                try await Task.sleep(for: .milliseconds(200))
                continue
            } catch let error as YagnaError where error.code == .notFound {
                // yagna keeps demand subscriptions in memory: a restarted node answers 404 for ours.
                // Nothing failed on the market's side, so subscribe again and keep negotiating until
                // the same deadline (proposals countered on the lost subscription are gone with it).
                log.notice("yagna forgot the demand (restarted?); subscribing it again", metadata: ["error": "\(error)"])
                try await Task.sleep(for: .milliseconds(200))
                subscription = try await subscribe(demand, until: deadline)
                log[metadataKey: "demand"] = "\(subscription)"
                continue
            } catch let error as YagnaError {
                throw JobError(.providerFailed, "cannot read the demand's events: \(error)")
            }
            for event in events {
                guard case .proposal(let proposal) = event else { continue }
                if proposal.state == "Initial" {
                    offers += 1
                    let terms: OfferTerms
                    do { terms = try OfferTerms(properties: proposal.properties) } catch {
                        refusals.append("\(proposal.issuerId): \(error)")
                        reject(subscription, proposal.proposalId, reason: "\(error)")
                        continue
                    }
                    if let violation = terms.violation(of: market.pricing, hours: hours) {
                        refusals.append("\(proposal.issuerId): \(violation)")
                        reject(subscription, proposal.proposalId, reason: "price over the job's limit: \(violation)")
                        continue
                    }
                    let cost = BudgetLedger.amount(terms.maxCost(hours: hours))
                    let available = state.withLock { $0.ledger.available }
                    if cost > available {
                        budgetRefusal = JobError(.budgetExceeded, "the cheapest acceptable offer may cost up to \(cost) GLM for \(hours) h, but only \(available) GLM of the budget of \(configuration.budget) GLM is left")
                        continue
                    }
                    do {
                        let ours = try await client.counterProposal(subscription, proposalId: proposal.proposalId, demand: counter)
                        countered[ours] = terms
                    } catch let error as YagnaError {
                        log.debug("counter-proposal failed", metadata: ["provider": "\(proposal.issuerId)", "error": "\(error)"])
                    }
                } else if proposal.state == "Draft", let previous = proposal.prevProposalId, let terms = countered[previous] {
                    if let lease = try await sign(proposal, terms: terms, hours: hours, key: key, logger: log) {
                        return lease
                    }
                }
            }
        }
        if let budgetRefusal { throw budgetRefusal }
        if offers > 0, countered.isEmpty, !refusals.isEmpty {
            throw JobError(.budgetExceeded, "all \(offers) offers break the job's price limits (\(refusals.prefix(3).joined(separator: "; ")))")
        }
        throw JobError(
            .noProvider,
            "no provider agreed within \(configuration.negotiationTimeout) (subnet \(configuration.subnet), \(offers) offers seen, \(countered.count) countered)"
        )
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
            } catch let error as YagnaError where error.isTransient && ContinuousClock.now + pause < deadline {
                logger.debug("demand subscription failed; trying again", metadata: ["error": "\(error)"])
                try await Task.sleep(for: pause)
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

    /// Reserves the budget, signs the agreement and prepares its activity. `nil` when this provider
    /// would not approve (try the next); throws on cancellation, budget or setup failure.
    private func sign(_ draft: Proposal, terms: OfferTerms, hours: Double, key: String, logger: Logger) async throws -> Lease? {
        let reservation = "negotiation-\(UUID())"
        try state.withLock { state throws(JobError) in
            try state.ledger.reserve(BudgetLedger.amount(terms.maxCost(hours: hours)), for: reservation)
        }
        var agreementId: String?
        var activityId: String?
        do {
            let id = try await client.createAgreement(proposalId: draft.proposalId, validTo: Date().addingTimeInterval(hours * 3600))
            agreementId = id
            try await store.recordAgreement(id, providerId: draft.issuerId)
            state.withLock { state in
                state.ledger.rename(reservation, to: id)
                state.owed.insert(id)
            }
            try await client.confirmAgreement(id, appSessionId: appSessionId)
            do {
                try await client.waitForApproval(id, timeout: configuration.approvalTimeout)
            } catch let error as YagnaError where !error.isTransient || error.code == .http(408) || error.code == .timeout {
                logger.info("provider did not approve the agreement", metadata: ["provider": "\(draft.issuerId)", "error": "\(error)"])
                cleanUpFailedSigning(agreementId: id, activityId: nil, reservation: reservation, approved: false)
                return nil
            }
            let provider = ProviderInfo(id: draft.issuerId, name: terms.providerName.isEmpty ? draft.issuerId : terms.providerName)
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
                expires: .now + .seconds(saturating: hours * 3600)
            )
            state.withLock { $0.leases[id] = lease }
            log.debug("activity ready", metadata: ["activity": "\(activity)"])
            return lease
        } catch {
            cleanUpFailedSigning(agreementId: agreementId, activityId: activityId, reservation: reservation, approved: true)
            if error is CancellationError || Task.isCancelled { throw CancellationError() }
            if let error = error as? JobError { throw error }
            throw JobError(.providerFailed, "renting provider \(draft.issuerId) failed: \(error)")
        }
    }

    private func cleanUpFailedSigning(agreementId: String?, activityId: String?, reservation: String, approved: Bool) {
        state.withLock { state in
            state.ledger.release(reservation)
            if let agreementId, !approved { state.ledger.release(agreementId) }
        }
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
