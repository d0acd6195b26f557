import Foundation
import GolemJobs
import JSONModel
import MetricsTestKit
import Testing
import Yagna
@testable import GolemBackend

/// Payment checks and the payment cursor against the real yagna, with debit notes and invoices issued
/// over the provider node's payment API. The played offer prices CPU at 0.0001 GLM/s on 2 threads and
/// the environment at 0.00002 GLM/s, no start price: 0.00022 GLM for each second the agreement runs.
extension GolemBackendYagnaTests {
    @Test func aDebitNoteOrInvoiceAboveTheAgreedPriceIsRejectedAndOneAtThePriceIsAccepted() async throws {
        let provider = PlayedProvider(net: net, subnet: subnet)
        try await provider.start(coeffs: [0.0001, 0.00002, 0.0])
        let metrics = TestMetrics()
        let (backend, store) = try backend()
        try await backend.start()
        let (agreementId, activityId) = try await rented(provider: provider, allocationId: try #require(try await store.allocationId()), owedIn: store)
        // The start above read the store before the agreement was recorded: a restart (recovery) reads it.
        let (restarted, _) = try paymentBackend(metrics: metrics)
        try await restarted.start()
        let payments = Task { await restarted.runPayments() }
        defer { payments.cancel() }

        // 1 GLM after a few seconds is thousands of times the price; 0.0001 GLM for 1 s of usage is it.
        let over = try await provider.debitNote(activityId: activityId, amount: "1", usage: [0, 1])
        let fair = try await provider.debitNote(activityId: activityId, amount: "0.00002", usage: [0, 1])
        #expect(try await eventually { try await requestor.debitNote(fair).status == "ACCEPTED" })
        // Notes are taken in order: the over-priced one was judged first. yagna 0.17.6 cannot reject a
        // debit note (501), so refusing it means leaving it unaccepted.
        #expect(try await requestor.debitNote(over).status == "RECEIVED")
        #expect(try metrics.expectCounter("golem_bridge_payment_documents_rejected_total", [("kind", "debit_note")]).totalValue == 1)
        // yagna shows the note accepted as soon as the bridge's accept call returns; the counter follows it.
        #expect(try await eventually { try metrics.expectCounter("golem_bridge_payment_documents_accepted_total", [("kind", "debit_note")]).totalValue == 1 })
        // The dashboard's "GLM spent": the accepted note, not the refused one (counted just after the counter).
        #expect(try await eventually { restarted.poolSnapshot().spent == Decimal(string: "0.00002")! })

        try await requestor.terminateAgreement(agreementId, reason: "test over")
        let invoice = try await provider.invoice(agreementId: agreementId, activityIds: [activityId], amount: "1")
        #expect(try await eventually { try await requestor.invoice(invoice).status == "REJECTED" })
        #expect(try await eventually { try metrics.expectCounter("golem_bridge_payment_documents_rejected_total", [("kind", "invoice")]).totalValue == 1 })
        // Refused, the agreement is settled: nothing is owed any more, and it cost what its accepted note promised.
        #expect(try await eventually { try await store.agreements().isEmpty })
        #expect(restarted.poolSnapshot().spent == Decimal(string: "0.00002")!)

        await restarted.shutdown(invoiceGrace: .zero)
        await backend.shutdown(invoiceGrace: .zero)
        await provider.stop()
    }

    @Test func aFirstStartIgnoresEarlierPaymentEventsAndARestartResumesFromItsCursor() async throws {
        let provider = PlayedProvider(net: net, subnet: subnet)
        try await provider.start(coeffs: [0.0001, 0.00002, 0.0])
        // An earlier user of the node: an agreement with a note received before this bridge's first start.
        let (earlier, earlierStore) = try backend()
        try await earlier.start()
        let allocationId = try #require(try await earlierStore.allocationId())
        let (agreementId, activityId) = try await rented(provider: provider, allocationId: allocationId, owedIn: nil)
        let before = try await provider.debitNote(activityId: activityId, amount: "0.00002", usage: [0, 1])
        #expect(try await requestor.debitNote(before).status == "RECEIVED")

        // The first start, on a new state file that (as a test's shortcut) owes the same agreement.
        let path = directory + "/first.sqlite"
        let store = try SQLiteRentalStore(path: path)
        try await store.recordAgreement(agreementId, providerId: net.providerId)
        try await store.markTerminated(agreementId: agreementId)
        let (first, _) = try paymentBackend(store: store)
        try await first.start()
        var payments = Task { await first.runPayments() }
        let after = try await provider.debitNote(activityId: activityId, amount: "0.00004", usage: [0, 2])
        #expect(try await eventually { try await requestor.debitNote(after).status == "ACCEPTED" })
        #expect(try await requestor.debitNote(before).status == "RECEIVED", "an event from before the first start was replayed")
        payments.cancel()
        await payments.value
        await first.shutdown(invoiceGrace: .zero)

        // Stopped, a note arrives; the next start resumes from the stored cursor and takes it.
        let whileDown = try await provider.debitNote(activityId: activityId, amount: "0.00006", usage: [0, 3])
        let (second, _) = try paymentBackend(store: try SQLiteRentalStore(path: path))
        try await second.start()
        payments = Task { await second.runPayments() }
        defer { payments.cancel() }
        #expect(try await eventually { try await requestor.debitNote(whileDown).status == "ACCEPTED" })
        #expect(try await requestor.debitNote(before).status == "RECEIVED")

        let kept = try await store.allocationId()
        await second.shutdown(invoiceGrace: .zero)
        await earlier.shutdown(invoiceGrace: .zero)
        // Nothing left behind on the node: the agreement, and the allocation kept for its invoice.
        try await requestor.terminateAgreement(agreementId, reason: "test over")
        if let kept { try await requestor.releaseAllocation(kept) }
        await provider.stop()
    }

    /// A rental negotiated by hand and handed to `backend` as if it had rented it: lent to a job
    /// (`busy`) or idle in its pool.
    func lent(to backend: GolemBackend, provider: PlayedProvider, store: SQLiteRentalStore, busy: Bool) async throws -> Lease {
        let (agreementId, activityId) = try await rented(provider: provider, allocationId: try #require(try await store.allocationId()), owedIn: nil)
        let lease = Lease(
            agreementId: agreementId, activityId: activityId, provider: ProviderInfo(id: net.providerId, name: "played-provider"),
            key: "k", expires: .now + .seconds(1800)
        )
        backend.payments.withLock { $0.recovered([agreementId]) }
        backend.rentals.withLock { state in
            state.leases[agreementId] = lease
            _ = state.pool.acquire(key: "k", now: .now)
        }
        if !busy { await backend.giveBack(lease, healthy: true, cleaned: true) }
        #expect(backend.poolSize.idle == (busy ? 0 : 1) && backend.poolSize.busy == (busy ? 1 : 0))
        return lease
    }

    @Test func aDebitNoteOverThePriceEndsAnIdleRentalAndItIsNeverLentAgain() async throws {
        let provider = PlayedProvider(net: net, subnet: subnet)
        try await provider.start(coeffs: [0.0001, 0.00002, 0.0])
        let (backend, store) = try backend()
        try await backend.start()
        let lease = try await lent(to: backend, provider: provider, store: store, busy: false)
        let payments = Task { await backend.runPayments() }
        defer { payments.cancel() }

        _ = try await provider.debitNote(activityId: lease.activityId, amount: "1", usage: [0, 1])
        #expect(try await eventually { try await requestor.agreement(lease.agreementId).state == "Terminated" })
        #expect(backend.poolSize.idle == 0 && backend.poolSize.busy == 0)
        #expect(backend.condemnation(lease.agreementId)?.contains("more than") == true)
        #expect(backend.rentals.withLock { $0.leases[lease.agreementId] } == nil)

        await backend.shutdown(invoiceGrace: .zero)
        await provider.stop()
    }

    @Test func aDebitNoteOverThePriceEndsALentRentalAndTheJobsStepFailsNamingIt() async throws {
        let provider = PlayedProvider(net: net, subnet: subnet)
        try await provider.start(coeffs: [0.0001, 0.00002, 0.0])
        let (backend, store) = try backend()
        try await backend.start()
        let lease = try await lent(to: backend, provider: provider, store: store, busy: true)
        let payments = Task { await backend.runPayments() }
        defer { payments.cancel() }

        _ = try await provider.debitNote(activityId: lease.activityId, amount: "1", usage: [0, 1])
        #expect(try await eventually { try await requestor.agreement(lease.agreementId).state == "Terminated" })
        // The job's next step: the rental is gone, and the error says why (provider_failed: the job
        // moves to another provider while it has attempts left).
        let rental = GolemRental(backend: backend, lease: lease, spec: spec, jobId: "j-over", proven: true)
        let error = await #expect(throws: JobError.self) {
            _ = try await rental.run(.run(RunStep(.shell("echo hi"))), index: 0, logger: testLogger)
        }
        #expect(error?.code == .providerFailed)
        #expect(error?.message.contains("sent a debit note over the agreed prices") == true, "\(String(describing: error))")
        // Given back healthy by the job, it is not pooled: the slot is freed, nothing kept.
        await rental.release(healthy: true)
        #expect(backend.poolSize.idle == 0 && backend.poolSize.busy == 0)

        await backend.shutdown(invoiceGrace: .zero)
        await provider.stop()
    }

    /// A backend on the test's configuration with its own metrics or state store.
    func paymentBackend(metrics: TestMetrics? = nil, store: SQLiteRentalStore? = nil) throws -> (GolemBackend, SQLiteRentalStore) {
        let (plain, defaultStore) = try backend()
        let store = store ?? defaultStore
        return (GolemBackend(configuration: plain.configuration, store: store, logger: testLogger, metrics: metrics ?? TestMetrics()), store)
    }

    /// An Approved agreement with an activity, negotiated by hand; recorded as owed (terminated by
    /// us, awaiting its invoice, so a start does not end it) in `owedIn`.
    func rented(provider: PlayedProvider, allocationId: String, owedIn store: SQLiteRentalStore?) async throws -> (agreement: String, activity: String) {
        let agreementId = try await negotiate(provider: provider, allocationId: allocationId)
        let activityId = try await requestor.createActivity(agreementId: agreementId, timeout: .seconds(15))
        if let store {
            try await store.recordAgreement(agreementId, providerId: net.providerId)
            try await store.markTerminated(agreementId: agreementId)
        }
        return (agreementId, activityId)
    }

    /// Waits, up to 30 s, for `condition` (what a payment loop does next is not timed by the test).
    func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(200))
        }
        return try await condition()
    }
}

extension PlayedProvider {
    /// Issues and sends a debit note for an activity, as a provider does every debit-note interval.
    func debitNote(activityId: String, amount: String, usage: [Double]) async throws -> String {
        struct Body: Encodable { var activityId: String; var totalAmountDue: String; var usageCounterVector: [Double] }
        struct Created: Decodable { var debitNoteId: String }
        let created = try await client.json(
            .POST, "/payment-api/v1/debitNotes",
            body: Body(activityId: activityId, totalAmountDue: amount, usageCounterVector: usage), as: Created.self
        )
        try await client.send(.POST, "/payment-api/v1/debitNotes/\(created.debitNoteId)/send")
        return created.debitNoteId
    }
}
