import AMQP
import Foundation
import GolemJobs
import Logging

extension BridgeRuntime {
    /// Takes one job request: validate, journal, acknowledge, run. Bad input is dead-lettered with its
    /// reason; a known job ID is not run again.
    func handleSubmit(_ delivery: Delivery, consumer: any DeliveryAcknowledging) async {
        let request: JobRequest
        do {
            request = try RequestCodec.decode(delivery.body, messageId: delivery.properties.messageId, limits: limits)
        } catch {
            await reject(delivery, error, consumer: consumer)
            return
        }
        let jobId = request.jobId ?? UUID().uuidString.lowercased()
        var jobLogger = logger
        jobLogger[metadataKey: "job.id"] = "\(jobId)"

        // A slot first, so a full bridge leaves requests in the queue for other bridges.
        guard await gate.acquire(timeout: configuration.intakeWait) else {
            jobLogger.info("no slot within the intake wait, or draining: request goes back to the queue")
            consumer.nack(delivery.deliveryTag, requeue: true)
            return
        }
        let acceptance: Journal.Acceptance, mark: CancelMark?
        do {
            (acceptance, mark) = try await journal.acceptReadingCancel(
                jobId: jobId, request: delivery.body, replyTo: delivery.properties.replyTo,
                correlationId: delivery.properties.correlationId, now: now()
            )
            journalHealth.answered()
        } catch {
            // Without a journal entry the job must not run: the broker keeps the request.
            journalHealth.failed()
            jobLogger.error("journal write failed: request requeued", metadata: ["error": "\(error)"])
            gate.release()
            consumer.nack(delivery.deliveryTag, requeue: true)
            try? await clock.sleep(for: .seconds(1))
            return
        }
        consumer.ack(delivery.deliveryTag)

        switch acceptance {
        case .duplicate(let record):
            metrics.requestDuplicate()
            gate.release()
            jobLogger.info("job ID already known: not run again", metadata: ["state": "\(record.state)"])
            if let replyTo = delivery.properties.replyTo, !replyTo.isEmpty {
                await replySnapshot(jobId: jobId, to: replyTo, correlationId: delivery.properties.correlationId ?? jobId)
            }
        case .accepted(let record):
            metrics.requestAccepted()
            jobLogger.info("job accepted", metadata: ["steps": "\(request.spec.work.count)"])
            await launch(
                jobId: jobId, spec: request.spec, record: record, previousAttempts: 0,
                cancelReason: mark.map { $0.reason }
            )
        }
    }

    /// Dead-letters a request that cannot be accepted, with `x-golem-error-code` and `x-golem-error`,
    /// and, when a job ID can be told and is not an accepted job's, tells its subscribers (`error`,
    /// `ended`). Those events are journaled before the ack and go out like every other event; every
    /// delivery of the same request (a redelivery, or the client resending it) sends them again with
    /// the same ids, to that delivery's `reply_to`.
    func reject(_ delivery: Delivery, _ error: any Error, consumer: any DeliveryAcknowledging) async {
        let rejection = error as? RequestRejection
            ?? RequestRejection(.schema, "\(error)", jobId: nil)
        var rejectLogger = logger
        if let jobId = rejection.jobId { rejectLogger[metadataKey: "job.id"] = "\(jobId)" }
        rejectLogger.warning(
            "request rejected",
            metadata: ["reason": "\(rejection.reason.rawValue)", "error": "\(rejection.message)"]
        )
        metrics.requestRejected(rejection.reason)

        var events: [StoredEvent] = []
        var observed: [JobEvent] = []
        if let jobId = rejection.jobId {
            let rejected = RejectedRequest(jobId: jobId, body: delivery.body, message: rejection.message, time: now(), source: source)
            observed = rejected.events.map(\.event)
            do {
                events = try await journal.recordRejection(
                    rejected.key, jobId: jobId, replyTo: delivery.properties.replyTo,
                    correlationId: delivery.properties.correlationId, events: rejected.events, now: now()
                )
            } catch {
                // Its subscribers must hear of it: the broker keeps the request until the journal works.
                rejectLogger.error("journal write failed: rejected request requeued", metadata: ["error": "\(error)"])
                consumer.nack(delivery.deliveryTag, requeue: true)
                try? await clock.sleep(for: .seconds(1))
                return
            }
        }

        var properties = delivery.properties
        properties.headers["x-golem-error-code"] = .string(rejection.reason.rawValue)
        properties.headers["x-golem-error"] = .string(rejection.message)
        properties.headers["x-golem-bridge"] = .string(configuration.instanceName)
        properties.headers["x-golem-original-routing-key"] = .string(delivery.routingKey)
        do {
            try await publisher.publish(exchange: names.deadExchange, routingKey: delivery.routingKey, body: delivery.body, properties: properties)
            consumer.ack(delivery.deliveryTag)
        } catch {
            // The queue's own dead-lettering still keeps the request (with x-death, without our reason).
            rejectLogger.error("dead-letter publish failed; rejecting to the queue's DLX", metadata: ["error": "\(error)"])
            consumer.reject(delivery.deliveryTag, requeue: false)
        }

        // The dashboard lists the rejected request with its `error` (it ignores a repeat of a job that ended).
        if !events.isEmpty { for event in observed { observer?(event, [:]) } }
        for stored in events {
            await deliver(
                // To this delivery's reply_to: a resent request may wait on another queue than the first.
                stored.envelope, replyTo: delivery.properties.replyTo,
                correlationId: delivery.properties.correlationId ?? stored.jobId, logger: rejectLogger
            )
        }
    }
}
