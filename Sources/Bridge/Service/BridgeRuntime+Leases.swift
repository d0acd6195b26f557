import Foundation
import GolemJobs
import Logging

extension BridgeRuntime {
    /// With a shared journal: every ``JobJournal/heartbeat``, renews the leases of this bridge's jobs,
    /// cancels the ones another bridge's consumer was asked to cancel, and stops the ones another
    /// bridge took over (their events would not be journaled). Until cancelled. A cancel therefore
    /// reaches a job within one heartbeat wherever it runs, even when only another bridge heard it.
    func keepLeases() async {
        guard journal.isShared else { return }
        while !Task.isCancelled {
            await renewLeases()
            try? await clock.sleep(for: journal.heartbeat)
        }
    }

    /// One heartbeat of ``keepLeases()``.
    func renewLeases() async {
        // The jobs held before the renewal: one accepted after it is owned, but not in its answer.
        let held = await engine.allJobs.filter { !$0.isFinished }
        let renewal: LeaseRenewal
        do { renewal = try await journal.renewLeases() } catch is CancellationError { return } catch {
            journalHealth.failed()
            logger.error("lease renewal failed", metadata: ["error": "\(error)"])
            return
        }
        journalHealth.answered()
        for mark in renewal.cancels {
            if let job = held.first(where: { $0.id == mark.jobId }) { job.cancel(reason: mark.reason ?? "canceled") }
        }
        for job in held where !renewal.owned.contains(job.id) {
            var jobLogger = logger
            jobLogger[metadataKey: "job.id"] = "\(job.id)"
            jobLogger.warning("another bridge took the job over (this bridge's lease expired): stopping it here")
            job.cancel(reason: "taken over by another bridge")
        }
    }

    /// With a shared journal: every ``JobJournal/heartbeat``, takes over the unfinished jobs whose
    /// owner's lease expired (a bridge killed, or cut off from the database, for longer than the
    /// lease) and resumes them as this bridge's own restart would. Until cancelled or draining.
    func takeOverExpired() async {
        guard journal.isShared else { return }
        while !Task.isCancelled && inFlight.phase == .running {
            try? await clock.sleep(for: journal.heartbeat)
            await takeOverOnce()
        }
    }

    /// One round of ``takeOverExpired()``.
    func takeOverOnce() async {
        let records: [JobRecord]
        do { records = try await journal.claimUnfinished(includingOwn: false) } catch is CancellationError { return } catch {
            logger.error("journal read failed: expired leases not taken over", metadata: ["error": "\(error)"])
            return
        }
        // A job this bridge still runs came back only because its own renewal was late.
        var claimed: [JobRecord] = []
        for record in records where await engine.job(id: record.jobId) == nil { claimed.append(record) }
        guard !claimed.isEmpty else { return }
        logger.info("taking over jobs whose lease expired", metadata: ["jobs": "\(claimed.count)"])
        await republishUnpublished(only: Set(claimed.map(\.jobId)))
        for record in claimed {
            guard inFlight.phase == .running else { return }
            await resume(record)
        }
    }
}
