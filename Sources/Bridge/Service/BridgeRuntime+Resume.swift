import AMQP
import Foundation
import GolemJobs
import Logging

extension BridgeRuntime {
    /// Publishes events an earlier run journaled but never saw confirmed, with their CloudEvent ids,
    /// so consumers can drop the duplicates.
    /// With `only`, just those jobs' events (the ones taken over from another bridge).
    func republishUnpublished(only jobIds: Set<String>? = nil) async {
        var events: [StoredEvent]
        do { events = try await journal.unpublishedEvents() } catch is CancellationError { return } catch {
            logger.error("journal read failed: unpublished events not resent", metadata: ["error": "\(error)"])
            return
        }
        if let jobIds { events.removeAll { !jobIds.contains($0.jobId) } }
        if !events.isEmpty { logger.info("republishing unconfirmed events", metadata: ["events": "\(events.count)"]) }
        for stored in events {
            var eventLogger = logger
            eventLogger[metadataKey: "job.id"] = "\(stored.jobId)"
            await deliver(stored.envelope, replyTo: stored.replyTo, correlationId: stored.correlationId ?? stored.jobId, logger: eventLogger)
        }
    }

    /// Jobs the last run left unfinished (with a shared journal: this bridge's name's and those whose
    /// lease expired), each as ``resume(_:)`` says.
    func resumeUnfinished() async {
        let records: [JobRecord]
        do { records = try await journal.claimUnfinished(includingOwn: true) } catch is CancellationError { return } catch {
            logger.error("journal read failed: unfinished jobs not resumed", metadata: ["error": "\(error)"])
            return
        }
        if !records.isEmpty { logger.info("resuming unfinished jobs", metadata: ["jobs": "\(records.count)"]) }
        for record in records {
            // A drain that began takes over: what is not resumed yet waits for the next start.
            guard inFlight.phase == .running else { return }
            await resume(record)
        }
    }

    /// Resumes one unfinished job: an outcome without `ended` gets its `ended`; a job with attempts
    /// left is tried again; one without gets `error` (`interrupted`) and `ended`.
    func resume(_ record: JobRecord) async {
        var jobLogger = logger
        jobLogger[metadataKey: "job.id"] = "\(record.jobId)"
        let context = EventContext(
            jobId: record.jobId, labels: [:], replyTo: record.replyTo,
            correlationId: record.correlationId ?? record.jobId, skipCreated: true, createdAt: record.createdAt
        )
        let now = self.now()
        if let outcome = record.outcome {
            // The outcome went out; only `ended` is missing.
            let state: JobState = outcome == .success ? .done : .rejected
            await emit(
                JobEvent(jobId: record.jobId, kind: .ended, state: state, attempt: record.attempt, time: now),
                context: context, logger: jobLogger
            )
            return
        }
        let request: JobRequest
        do {
            request = try RequestCodec.decode(record.request, messageId: record.jobId, limits: limits)
        } catch {
            jobLogger.error("journaled request no longer decodes", metadata: ["error": "\(error)"])
            await finishInterrupted(record, message: "the journaled request could not be read again: \(error)", context: context, logger: jobLogger)
            return
        }
        var labelled = context
        labelled.labels = request.spec.labels
        // Attempts a graceful shutdown stopped are given back; a crash's are not.
        var spec = request.spec
        spec.maxAttempts += record.suspensions
        if record.attempt >= spec.maxAttempts {
            await finishInterrupted(
                record,
                message: "the bridge stopped during attempt \(record.attempt) of \(spec.maxAttempts); no attempts remain",
                context: labelled, logger: jobLogger
            )
            return
        }
        guard await gate.acquire(timeout: .seconds(3600)) else { return }
        let mark = try? await journal.cancelMark(jobId: record.jobId)
        jobLogger.info("job resumed", metadata: ["previous_attempts": "\(record.attempt)"])
        await launch(
            jobId: record.jobId, spec: spec, record: record, previousAttempts: record.attempt,
            cancelReason: mark.map { $0.reason }
        )
    }

    private func finishInterrupted(_ record: JobRecord, message: String, context: EventContext, logger: Logger) async {
        let failure = JobError(.interrupted, message)
        let now = self.now()
        await emit(
            JobEvent(jobId: record.jobId, kind: .error, state: .rejected, attempt: record.attempt, time: now, error: failure),
            context: context, logger: logger
        )
        await emit(
            JobEvent(jobId: record.jobId, kind: .ended, state: .rejected, attempt: record.attempt, time: now, error: failure),
            context: context, logger: logger
        )
    }
}
