import Foundation
import GolemJobs
import Logging
import Yagna

extension GolemBackend {
    /// Checks and accepts, or rejects, debit notes and invoices of our agreements as they arrive,
    /// until cancelled. Payment events are persistent: the cursor (last `eventDate`) is stored, so a
    /// restart resumes where it was, and the first start begins at the store's first start rather
    /// than replaying the node's history.
    func runPayments() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.paymentLoop(kind: .debitNote) }
            group.addTask { await self.paymentLoop(kind: .invoice) }
        }
    }

    enum PaymentKind: String, Sendable, CaseIterable {
        case debitNote, invoice

        /// The metrics label.
        var label: String { self == .debitNote ? "debit_note" : "invoice" }
    }

    private func paymentLoop(kind: PaymentKind) async {
        let cursorName = "cursor.\(kind.rawValue)"
        var cursor: String?
        while cursor == nil, !Task.isCancelled {
            do {
                if let stored = try await store.cursor(cursorName) {
                    cursor = stored
                } else {
                    cursor = try await store.firstStart()
                }
            } catch {
                logger.warning("cannot read the payment cursor; retrying", metadata: ["kind": "\(kind.rawValue)", "error": "\(error)"])
                try? await clock.sleep(for: .seconds(1))
            }
        }
        while !Task.isCancelled {
            let events: [PaymentEvent]
            do {
                events = kind == .debitNote
                    ? try await client.debitNoteEvents(after: cursor, timeout: configuration.pollInterval)
                    : try await client.invoiceEvents(after: cursor, timeout: configuration.pollInterval)
            } catch is CancellationError {
                return
            } catch {
                logger.warning("payment events failed; retrying", metadata: ["kind": "\(kind.rawValue)", "error": "\(error)"])
                try? await clock.sleep(for: .seconds(1))
                continue
            }
            for event in events {
                if event.eventType.hasSuffix("ReceivedEvent") {
                    await handle(event, kind: kind)
                }
                cursor = event.eventDate
                try? await store.setCursor(cursorName, event.eventDate)
            }
        }
    }

    private func handle(_ event: PaymentEvent, kind: PaymentKind) async {
        guard let session = try? await session() else { return }
        do {
            switch kind {
            case .debitNote:
                guard let id = event.debitNoteId else { return }
                let note = try await client.debitNote(id)
                guard note.status == "RECEIVED", isOurs(note.agreementId) else { return }
                let usage = note.usageCounterVector?.array.map { $0.compactMap(\.number) }
                let accepted = try await settle(kind, id: id, agreementId: note.agreementId, amount: note.totalAmountDue, at: event.eventDate, usage: usage) {
                    try await client.acceptDebitNote(id, amount: note.totalAmountDue, allocationId: session.allocationId)
                }
                if let accepted {
                    payments.withLock { $0.acceptedDebitNote(agreementId: note.agreementId, activityId: note.activityId, amount: accepted) }
                }
            case .invoice:
                guard let id = event.invoiceId else { return }
                let invoice = try await client.invoice(id)
                guard invoice.status == "RECEIVED", isOurs(invoice.agreementId) else { return }
                let accepted = try await settle(kind, id: id, agreementId: invoice.agreementId, amount: invoice.amount, at: event.eventDate, activities: invoice.activityIds?.count ?? 1) {
                    try await client.acceptInvoice(id, amount: invoice.amount, allocationId: session.allocationId)
                }
                // Paid or refused, the agreement is settled: a provider issues one invoice per agreement.
                payments.withLock { $0.settled(invoice.agreementId, accepted: accepted) }
                _ = rentals.withLock { $0.condemned.removeValue(forKey: invoice.agreementId) }
                try? await store.forgetAgreement(invoice.agreementId)
            }
        } catch {
            logger.error("could not settle a payment document", metadata: ["kind": "\(kind.rawValue)", "error": "\(error)"])
        }
    }

    /// Accepts the document with `accept` when its amount fits the agreed prices, else rejects it.
    /// Returns the amount accepted, or `nil` when it was refused.
    private func settle(
        _ kind: PaymentKind, id: String, agreementId: String, amount: String, at eventDate: String,
        usage: [Double]? = nil, activities: Int = 1, accept: () async throws -> Void
    ) async throws -> Decimal? {
        if let why = try await verdict(amount, agreementId: agreementId, at: eventDate, usage: usage, activities: activities) {
            await reject(kind, id: id, agreementId: agreementId, amount: amount, why: why)
            if kind == .debitNote { condemn(agreementId, why: why) }
            return nil
        }
        try await accept()
        paymentMetrics.accepted(kind)
        logger.log(level: kind == .invoice ? .info : .debug, "\(kind == .invoice ? "invoice" : "debit note") accepted", metadata: ["agreement": "\(agreementId)", "amount": "\(amount)"])
        // `verdict` read it as a decimal before anything was accepted.
        return Self.decimal(amount) ?? 0
    }

    /// A payment document's amount (a decimal string, whatever this machine's locale).
    static func decimal(_ amount: String) -> Decimal? {
        Decimal(string: amount, locale: Locale(identifier: "en_US_POSIX"))
    }

    /// Why `amount` does not fit the agreement's prices at the event's time, or `nil` when it does.
    /// Reads the agreement from yagna (its offer and approval time), so it works after a restart too.
    private func verdict(_ amount: String, agreementId: String, at eventDate: String, usage: [Double]? = nil, activities: Int = 1) async throws -> String? {
        guard let due = Self.decimal(amount), due >= 0 else {
            return "\(amount) is not a decimal amount"
        }
        let agreement = try await client.agreement(agreementId)
        guard let approved = agreement.approvedDate.flatMap(YagnaClient.date) else {
            return "the agreement was never approved"
        }
        let check: PaymentCheck
        do {
            check = try PaymentCheck(properties: agreement.offer.properties, start: approved, end: agreement.validTo.flatMap(YagnaClient.date))
        } catch {
            return "the agreement's prices cannot be read: \(error)"
        }
        // The requestor node's time of the event; our own clock if yagna wrote something else.
        let at = YagnaClient.date(eventDate) ?? clock.date
        switch check.verdict(amount: due, at: at, usage: usage, activities: activities) {
        case .fits: return nil
        case .exceeds(let why): return why
        }
    }

    /// Rejects a document whose amount does not fit (`INCORRECT_AMOUNT`), logs it with the agreement
    /// and the figures, and counts it. yagna 0.17.6 does not implement rejecting debit notes (501):
    /// such a note stays unaccepted, and the provider ends the agreement after its accept timeout.
    private func reject(_ kind: PaymentKind, id: String, agreementId: String, amount: String, why: String) async {
        paymentMetrics.rejected(kind)
        let metadata: Logger.Metadata = ["kind": "\(kind.rawValue)", "agreement": "\(agreementId)", "document": "\(id)", "amount": "\(amount)", "reason": "\(why)"]
        logger.warning("refusing a payment document whose amount does not fit the agreed prices", metadata: metadata)
        let rejection = Rejection(.incorrectAmount, message: why)
        do {
            switch kind {
            case .debitNote: try await client.rejectDebitNote(id, rejection)
            case .invoice: try await client.rejectInvoice(id, rejection)
            }
        } catch let error as YagnaError where error.code == .http(501) {
            logger.notice("yagna cannot reject debit notes; the note is left unaccepted", metadata: metadata)
        } catch {
            logger.error("could not send the rejection; the document is left unaccepted", metadata: metadata.merging(["error": "\(error)"]) { $1 })
        }
    }

    /// A debit note of `agreementId` asked more than the agreed prices: the provider gets no more
    /// work, and the rental ends now rather than stay lent or pooled. Idle, it leaves the pool;
    /// lent, its activity is destroyed and its agreement terminated, so the job's running step fails
    /// and ``GolemRental`` names this cause (`provider_failed`: the job moves to another provider
    /// while it has attempts left); still being set up, ``sign`` gives it up. A provider that
    /// overcharges once is not trusted with the rest of the rental: letting it run would only wait
    /// for its next note, and yagna 0.17 cannot even send the rejection (501).
    func condemn(_ agreementId: String, why: String) {
        let (lease, first) = rentals.withLock { state -> (Lease?, Bool) in
            let first = state.condemned[agreementId] == nil
            state.condemned[agreementId] = why
            guard first, let lease = state.leases[agreementId] else { return (nil, first) }
            // idle (or cleaning): out of the pool now; lent: `giveBack` frees its slot
            _ = state.pool.lost(agreementId)
            return (lease, first)
        }
        guard first, let lease else { return }
        logger.warning("ending a rental whose provider asked more than the agreed prices", metadata: [
            "agreement": "\(agreementId)", "provider": "\(lease.provider.id)", "reason": "\(why)",
        ])
        end(lease, reason: "a debit note asked more than the agreed prices")
        wakeWaiters()
    }

    /// Why the rental of `agreementId` was ended for overcharging, or `nil`.
    func condemnation(_ agreementId: String) -> String? {
        rentals.withLock { $0.condemned[agreementId] }
    }

    private func isOurs(_ agreementId: String) -> Bool {
        payments.withLock { $0.isOwed(agreementId) }
    }
}
