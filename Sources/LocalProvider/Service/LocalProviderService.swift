import AsyncHTTPClient
import BlockingWork
import Foundation
import JSONModel
import Logging
import Resilience
import Sandbox
import ServiceLifecycle
import Yagna

/// The provider agent: offers this machine on a yagna node's market, approves agreements, serves
/// each activity's exe-unit on the node's service bus (``GSBSession``, as a real exe-unit does) with
/// commands in the Sandbox, and issues debit notes and invoices. Runs until cancelled or a graceful
/// shutdown; then it destroys its activities (kills their commands, removes their work directories,
/// ends their GSB registrations, reports them Terminated) and unsubscribes its offer.
public final class LocalProviderService: Service {
    public let configuration: ProviderConfiguration
    private let api: ProviderAPI
    let logger: Logger
    private let book = AgreementBook()
    /// Filters our agreements' events from anything else on the node (one per run).
    private let appSessionId = "golem-bridge-provider-\(UUID().uuidString.prefix(8).lowercased())"
    private let offerId = Mutex<String?>(nil)
    private let started = Date()
    /// One for every activity: work directories' owners are assigned through it.
    private let sandbox: Sandbox
    /// Sandboxes ready for the next activities (``ProviderConfiguration/warmSandboxes``).
    private let warmPool: WarmSandboxPool?

    public init(configuration: ProviderConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.api = ProviderAPI(client: YagnaClient(configuration: configuration.yagna, logger: logger))
        self.sandbox = Sandbox(configuration: configuration.sandbox)
        self.warmPool = WarmSandboxPool(sandbox: sandbox, workRoot: configuration.workRoot, size: configuration.warmSandboxes, logger: logger)
    }

    public func run() async throws {
        let identity = try await waitForIdentity()
        logger.info("provider agent started", metadata: [
            "provider.id": "\(identity)", "yagna.api": "\(configuration.yagna.apiURL)", "provider.session": "\(appSessionId)",
            "provider.subnet": "\(configuration.subnet)", "provider.platform": "\(configuration.paymentPlatform)",
        ])
        try await preflight()
        try await checkServiceBus(identity: identity)
        if let warmPool {
            let workRoot = configuration.workRoot
            await BlockingIO.run { WarmSandboxPool.removeLeftovers(in: workRoot) }
            warmPool.fill()
        }
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.marketLoop(identity: identity) }
                group.addTask { await self.activityLoop() }
                group.addTask { await self.agreementLoop() }
                group.addTask { await self.debitNoteEventLoop() }
            }
        }
        // Not cancelled: the cleanup must reach yagna.
        await Task { await self.shutdown() }.value
    }

    /// Checks that activities can run: the work root exists (created if needed) and the sandbox's
    /// unprivileged user can reach it. Throws a `SandboxError` naming the folder; call it before
    /// offering anything, so a misconfigured agent refuses to start instead of failing every command.
    public func preflight() async throws {
        try await sandbox.prepareWorkRoot(configuration.workRoot)
    }

    private func waitForIdentity() async throws -> String {
        var backoff = Backoff().pauses()
        while true {
            do { return try await api.identity() } catch let error as YagnaError where error.isTransient {
                logger.warning("yagna not reachable yet; retrying", metadata: ["error": "\(error)"])
                try await Task.sleep(for: backoff.next())
            }
        }
    }

    private func shutdown() async {
        for activityId in await book.allActivities {
            await destroy(activityId: activityId, reason: "provider shutting down")
        }
        if let offer = offerId.withLock({ $0 }) {
            do { try await api.unsubscribe(offer) } catch { logger.debug("unsubscribe at shutdown failed", metadata: ["error": "\(error)"]) }
        }
        await warmPool?.shutdown()
        logger.info("provider agent stopped")
    }

    // MARK: - Market

    private func marketLoop(identity: String) async {
        let negotiator = Negotiator(configuration: configuration)
        var backoff = Backoff().pauses()
        while !Task.isCancelled {
            let nonce = String(UUID().uuidString.prefix(8)).lowercased()
            let offer = Offer(configuration: configuration, identity: identity, nonce: nonce)
            let subscription: String
            do {
                subscription = try await api.subscribe(offer)
            } catch {
                if Task.isCancelled { return }
                logger.warning("cannot subscribe the offer; retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: backoff.next())
                continue
            }
            backoff.reset()
            offerId.withLock { $0 = subscription }
            logger.info("offer subscribed", metadata: ["offer.id": "\(subscription)", "offer.name": "\(offer.nodeName ?? "")"])
            let renewAt = ContinuousClock.now + configuration.offerExpiration - .seconds(min(60, configuration.offerExpiration.components.seconds / 10))
            await withDiscardingTaskGroup { group in
                while !Task.isCancelled, ContinuousClock.now < renewAt {
                    let events: [JSONValue]
                    do {
                        events = try await api.offerEvents(subscription, timeout: configuration.pollTimeout)
                        backoff.reset()
                    } catch let error as YagnaError where error.code == .notFound || error.code == .conflict {
                        logger.warning("yagna forgot the offer; subscribing again", metadata: ["offer.id": "\(subscription)", "error": "\(error)"])
                        break
                    } catch {
                        if Task.isCancelled { break }
                        logger.warning("offer events failed; retrying", metadata: ["error": "\(error)"])
                        try? await Task.sleep(for: backoff.next())
                        continue
                    }
                    for event in events {
                        group.addTask { await self.handleMarketEvent(event, offerId: subscription, offer: offer, negotiator: negotiator) }
                    }
                }
            }
            if !Task.isCancelled {
                try? await api.unsubscribe(subscription)
                offerId.withLock { $0 = nil }
            }
        }
    }

    private func handleMarketEvent(_ event: JSONValue, offerId: String, offer: Offer, negotiator: Negotiator) async {
        switch event["eventType"]?.string {
        case "ProposalEvent":
            guard let proposal = event["proposal"], let proposalId = proposal["proposalId"]?.string else { return }
            let properties = proposal["properties"]?.dictionary ?? [:]
            var log = logger
            log[metadataKey: "proposal.id"] = "\(proposalId)"
            log[metadataKey: "requestor.id"] = "\(proposal["issuerId"]?.string ?? "?")"
            let answer: Offer
            switch negotiator.decide(on: properties, offer: offer.properties) {
            case .ready:
                answer = offer
            case .negotiating(let terms):
                answer = offer.with(properties: terms)
            case .reject(let reason, let isFinal):
                log.info("demand rejected", metadata: ["reason": "\(reason)", "final": "\(isFinal)"])
                try? await api.reject(offerId: offerId, proposalId: proposalId, reason: reason, isFinal: isFinal)
                return
            }
            do {
                let counter = try await api.counter(offerId: offerId, proposalId: proposalId, with: answer)
                log.info("demand countered", metadata: ["proposal.state": "\(proposal["state"]?.string ?? "?")", "counter.id": "\(counter)"])
            } catch {
                log.warning("counter-proposal failed", metadata: ["error": "\(error)"])
            }
        case "AgreementEvent":
            guard let agreement = event["agreement"], let agreementId = agreement["agreementId"]?.string else { return }
            var log = logger
            log[metadataKey: "agreement.id"] = "\(agreementId)"
            let demand = agreement["demand"]?["properties"]?.dictionary ?? [:]
            let agreed = agreement["offer"]?["properties"]?.dictionary ?? [:]
            if let reason = negotiator.approves(demand: demand, offer: agreed) {
                log.info("agreement rejected", metadata: ["reason": "\(reason)"])
                try? await api.rejectAgreement(agreementId, reason: reason)
                return
            }
            let terms = PaymentTerms(demand: demand, configuration: configuration)
            await book.approved(agreementId, terms: terms)
            do {
                try await api.approve(agreementId: agreementId, appSessionId: appSessionId, timeout: .seconds(15))
                log.info("agreement approved", metadata: ["debitNote.interval": "\(terms.debitNoteInterval)", "debitNote.acceptTimeout": "\(terms.acceptTimeout)"])
            } catch {
                log.warning("agreement approval failed", metadata: ["error": "\(error)"])
                await book.forget(agreementId)
            }
        case "ProposalRejectedEvent":
            logger.info("requestor rejected our proposal", metadata: ["proposal.id": "\(event["proposalId"]?.string ?? "?")", "reason": "\(event["reason"]?["message"]?.string ?? "")"])
        default:
            break
        }
    }

    // MARK: - Agreements

    private func agreementLoop() async {
        var after = ProviderAPI.timestamp(started)
        var backoff = Backoff().pauses()
        while !Task.isCancelled {
            let events: [JSONValue]
            do {
                events = try await api.agreementEvents(after: after, appSessionId: appSessionId, timeout: configuration.pollTimeout)
                backoff.reset()
            } catch {
                if Task.isCancelled { return }
                logger.warning("agreement events failed; retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: backoff.next())
                continue
            }
            for event in events {
                if let date = event["eventDate"]?.string { after = date }
                guard let agreementId = event["agreementId"]?.string else { continue }
                switch event["eventType"]?.string {
                case "AgreementTerminatedEvent", "AgreementCancelledEvent", "AgreementExpiredEvent", "AgreementRejectedEvent":
                    logger.info("agreement ended", metadata: ["agreement.id": "\(agreementId)", "event": "\(event["eventType"]?.string ?? "")", "terminator": "\(event["terminator"]?.string ?? "")"])
                    await endAgreement(agreementId)
                default:
                    break
                }
            }
        }
    }

    /// Destroys what still runs under the agreement, then invoices it once.
    private func endAgreement(_ agreementId: String) async {
        for activityId in await book.activities(of: agreementId) {
            await destroy(activityId: activityId, reason: "agreement ended")
        }
        guard let bill = await book.terminated(agreementId) else { return }
        do {
            let invoice = try await api.invoice(agreementId: agreementId, activityIds: bill.activityIds, amount: bill.amount, due: Date().addingTimeInterval(120))
            logger.info("invoice sent", metadata: ["agreement.id": "\(agreementId)", "invoice.id": "\(invoice)", "invoice.amount": "\(LinearPricing.text(bill.amount))"])
        } catch {
            logger.error("invoice failed", metadata: ["agreement.id": "\(agreementId)", "error": "\(error)"])
        }
        await book.forget(agreementId)
    }

    // MARK: - Activities

    private func activityLoop() async {
        var after = ProviderAPI.timestamp(started)
        var backoff = Backoff().pauses()
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled {
                let events: [JSONValue]
                do {
                    events = try await api.activityEvents(after: after, appSessionId: appSessionId, timeout: configuration.pollTimeout)
                    backoff.reset()
                } catch {
                    if Task.isCancelled { break }
                    logger.warning("activity events failed; retrying", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: backoff.next())
                    continue
                }
                for event in events {
                    if let date = event["eventDate"]?.string { after = date }
                    guard let activityId = event["activityId"]?.string, let agreementId = event["agreementId"]?.string else { continue }
                    let kind = event["eventType"]?.object?.first?.key ?? event["eventType"]?.string
                    switch kind {
                    case "CreateActivity":
                        group.addTask { await self.create(activityId: activityId, agreementId: agreementId) }
                    case "DestroyActivity":
                        group.addTask { await self.destroy(activityId: activityId, reason: "requestor destroyed it") }
                    default:
                        logger.debug("activity event ignored", metadata: ["event": "\(kind ?? "?")"])
                    }
                }
            }
        }
    }

    private func create(activityId: String, agreementId: String) async {
        var log = logger
        log[metadataKey: "activity.id"] = "\(activityId)"
        log[metadataKey: "agreement.id"] = "\(agreementId)"
        guard let terms = await book.terms(of: agreementId), await book.isLive(agreementId) else {
            log.warning("CreateActivity for an agreement this agent did not approve; ignored")
            return
        }
        guard activityId.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else {
            log.warning("activity id with unexpected characters; ignored")
            return
        }
        // The activity's sandbox, started ahead; without one, a work directory for a fresh sandbox per command.
        var taken: WarmSandbox?
        if let warmPool {
            do {
                taken = try await warmPool.checkout()
                warmPool.fill()
            } catch {
                log.warning("no warm sandbox; a fresh one per command instead", metadata: ["error": "\(error)"])
            }
        }
        let warm = taken
        let directory = warm?.workDirectory ?? "\(configuration.workRoot)/\(activityId)"
        let (sandbox, warmPool) = (self.sandbox, self.warmPool)
        let release: @Sendable () async -> Void = {
            if let warm, let warmPool { warmPool.checkin(warm) } else { await sandbox.releaseWorkDirectory(directory) }
        }
        if warm == nil {
            do {
                try await sandbox.prepareWorkDirectory(directory)
            } catch {
                log.error("cannot create the work directory", metadata: ["error": "\(error)"])
                try? await api.setState(activityId: activityId, .terminated, reason: "work directory: \(error)")
                return
            }
        }
        let api = self.api
        let stateLog = log
        let exeUnit = ExeUnit(
            activityId: activityId, agreementId: agreementId, workDirectory: directory, configuration: configuration,
            sandbox: sandbox, warm: warm, release: release, logger: log
        ) { state in
            do { try await api.setState(activityId: activityId, state) } catch {
                stateLog.warning("cannot report the activity state", metadata: ["state": "\(state.rawValue)", "error": "\(error)"])
            }
        }
        let session = GSBSession(exeUnit: exeUnit, gsbURL: configuration.gsbURL, maxPacket: configuration.outputLimit * 2 + (1 << 20), logger: log)
        // Registered before the activity is reported Initialized, so a requestor's first `Exec` finds it.
        let (registration, report) = AsyncStream.makeStream(of: String?.self, bufferingPolicy: .bufferingNewest(1))
        let gsbTask = Task {
            await session.serve { error in
                report.yield(error.map { "\($0)" })
                report.finish()
            }
        }
        var outcome: String?? = nil
        for await first in registration {
            outcome = first
            break
        }
        if let failure = outcome ?? "the GSB session ended before registering" {
            log.error("cannot register the exe-unit on the service bus", metadata: ["gsb.url": "\(configuration.gsbURL)", "error": "\(failure)"])
            gsbTask.cancel()
            await release()
            try? await api.setState(activityId: activityId, .terminated, reason: "GSB registration failed: \(failure)")
            return
        }
        let debitTask = Task { await self.debitNotes(exeUnit: exeUnit, terms: terms, logger: log) }
        let handle = ActivityHandle(exeUnit: exeUnit, gsbTask: gsbTask, debitTask: debitTask)
        await book.add(activity: activityId, agreementId: agreementId, handle: handle)
        do {
            try await api.setState(activityId: activityId, .initialized)
            log.info("activity created", metadata: ["gsb.address": "\(session.address)", "workDirectory": "\(directory)"])
        } catch {
            log.error("cannot report the activity Initialized", metadata: ["error": "\(error)"])
            await destroy(activityId: activityId, reason: "could not report Initialized")
        }
    }

    private func destroy(activityId: String, reason: String) async {
        guard let existing = await book.handle(activityId) else { return }
        let usage = await existing.exeUnit.usage()
        guard let handle = await book.finish(activity: activityId, amount: configuration.pricing.amount(for: usage)) else { return }
        handle.debitTask.cancel()
        await handle.exeUnit.destroy()
        handle.gsbTask.cancel()
        await handle.gsbTask.value
        do { try await api.setState(activityId: activityId, .terminated, reason: reason) } catch {
            logger.warning("cannot report the activity Terminated", metadata: ["activity.id": "\(activityId)", "error": "\(error)"])
        }
        logger.info("activity terminated", metadata: ["activity.id": "\(activityId)", "agreement.id": "\(handle.exeUnit.agreementId)", "reason": "\(reason)"])
    }

    // MARK: - Payments

    /// Every negotiated interval while the activity lives: a debit note for what it cost so far (its
    /// usage counter vector is how the requestor learns the usage: yagna 0.17 has no REST call for a
    /// provider to set an activity's usage, only an exe-unit's local GSB message), and a deadline
    /// after which an unaccepted note terminates the agreement.
    /// The deadlines are child tasks: cancelling the activity's debit-note task (destroy, shutdown)
    /// cancels them too, and the invoice then covers what the notes did.
    private func debitNotes(exeUnit: ExeUnit, terms: PaymentTerms, logger: Logger) async {
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled {
                try? await Task.sleep(for: terms.debitNoteInterval)
                if Task.isCancelled { return }
                let usage = await exeUnit.usage()
                let amount = configuration.pricing.amount(for: usage)
                do {
                    let note = try await api.debitNote(activityId: exeUnit.activityId, amount: amount, usage: usage)
                    await book.sent(note: note, agreementId: exeUnit.agreementId)
                    logger.info("debit note sent", metadata: ["debitNote.id": "\(note)", "debitNote.amount": "\(LinearPricing.text(amount))"])
                    let agreementId = exeUnit.agreementId
                    group.addTask {
                        try? await Task.sleep(for: terms.acceptTimeout)
                        guard !Task.isCancelled, await !self.book.settle(note: note), await self.book.isLive(agreementId) else { return }
                        logger.warning("debit note not accepted in time; terminating the agreement", metadata: ["debitNote.id": "\(note)"])
                        // Ending the agreement destroys this activity, which cancels this task and
                        // would cut the cleanup short: it runs on its own.
                        Task {
                            do {
                                try await self.api.terminate(agreementId: agreementId, reason: "debit note \(note) not accepted within \(terms.acceptTimeout)")
                            } catch {
                                logger.warning("terminate failed", metadata: ["error": "\(error)"])
                            }
                            await self.endAgreement(agreementId)
                        }
                    }
                } catch {
                    logger.warning("debit note failed", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    private func debitNoteEventLoop() async {
        var after = ProviderAPI.timestamp(started)
        var backoff = Backoff().pauses()
        while !Task.isCancelled {
            do {
                let events = try await api.debitNoteEvents(after: after, timeout: configuration.pollTimeout)
                backoff.reset()
                for event in events {
                    if let date = event["eventDate"]?.string { after = date }
                    if event["eventType"]?.string == "DebitNoteAcceptedEvent", let note = event["debitNoteId"]?.string {
                        await book.accepted(note: note)
                        logger.info("debit note accepted", metadata: ["debitNote.id": "\(note)"])
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("debit note events failed; retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: backoff.next())
            }
        }
    }
}

import Synchronization
