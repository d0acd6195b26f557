import Foundation
import GolemJobs
import Logging
import Yagna

extension GolemBackend {
    /// Accepts debit notes and invoices of our agreements as they arrive, until cancelled. Payment
    /// events are persistent: the cursor (last `eventDate`) is stored, so a restart resumes where it was.
    func runPayments() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.paymentLoop(kind: .debitNote) }
            group.addTask { await self.paymentLoop(kind: .invoice) }
        }
    }

    enum PaymentKind: String, Sendable { case debitNote, invoice }

    private func paymentLoop(kind: PaymentKind) async {
        let cursorName = "cursor.\(kind.rawValue)"
        var cursor = try? await store.cursor(cursorName)
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
                try? await Task.sleep(for: .seconds(1))
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
                try await client.acceptDebitNote(id, amount: note.totalAmountDue, allocationId: session.allocationId)
                logger.debug("debit note accepted", metadata: ["agreement": "\(note.agreementId)", "amount": "\(note.totalAmountDue)"])
            case .invoice:
                guard let id = event.invoiceId else { return }
                let invoice = try await client.invoice(id)
                guard invoice.status == "RECEIVED", isOurs(invoice.agreementId) else { return }
                try await client.acceptInvoice(id, amount: invoice.amount, allocationId: session.allocationId)
                state.withLock { state in
                    state.ledger.release(invoice.agreementId)
                    state.owed.remove(invoice.agreementId)
                    state.awaitingInvoice.removeValue(forKey: invoice.agreementId)
                }
                try? await store.forgetAgreement(invoice.agreementId)
                logger.info("invoice accepted", metadata: ["agreement": "\(invoice.agreementId)", "amount": "\(invoice.amount)"])
            }
        } catch {
            logger.error("could not accept a payment document", metadata: ["kind": "\(kind.rawValue)", "error": "\(error)"])
        }
    }

    private func isOurs(_ agreementId: String) -> Bool {
        state.withLock { $0.owed.contains(agreementId) }
    }
}
