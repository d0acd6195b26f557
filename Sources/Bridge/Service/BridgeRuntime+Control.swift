import AMQP
import Foundation
import GolemJobs
import Logging

extension BridgeRuntime {
    /// `job.<jobId>.cancel`: stops a running job, keeps a queued one from running, and is remembered
    /// for a job that has not arrived yet. Cancelling twice, or a finished job, is harmless.
    func handleCancel(_ delivery: Delivery) async {
        guard let request = ControlCodec.parse(routingKey: delivery.routingKey), request.action == .cancel else {
            logger.warning("control message with an unexpected routing key ignored", metadata: ["routing_key": "\(delivery.routingKey)"])
            return
        }
        let jobId = request.jobId
        var jobLogger = logger
        jobLogger[metadataKey: "job.id"] = "\(jobId)"
        let reason = ControlCodec.cancelReason(delivery.body)
        do {
            try await journal.rememberCancel(jobId: jobId, reason: reason, now: now())
        } catch {
            jobLogger.error("journal write failed for cancel", metadata: ["error": "\(error)"])
        }
        if let job = await engine.job(id: jobId) {
            jobLogger.info("cancel requested", metadata: ["reason": "\(reason ?? "-")"])
            job.cancel(reason: reason)
        } else {
            jobLogger.info("cancel remembered for a job this bridge is not running")
        }
    }

    /// `job.<jobId>.status` with `reply_to`: the job's snapshot, or `unknown`.
    func handleStatus(_ delivery: Delivery) async {
        guard let request = ControlCodec.parse(routingKey: delivery.routingKey), request.action == .status else {
            logger.warning("status message with an unexpected routing key ignored", metadata: ["routing_key": "\(delivery.routingKey)"])
            return
        }
        let jobId = request.jobId
        guard let replyTo = delivery.properties.replyTo, !replyTo.isEmpty else {
            logger.warning("status request without reply_to ignored", metadata: ["job.id": "\(jobId)"])
            return
        }
        await replySnapshot(jobId: jobId, to: replyTo, correlationId: delivery.properties.correlationId ?? jobId)
    }

    func replySnapshot(jobId: String, to replyTo: String, correlationId: String) async {
        let snapshot: JobSnapshot
        do {
            snapshot = try await journal.snapshot(jobId: jobId) ?? .unknown(jobId)
        } catch {
            logger.error("journal read failed for status", metadata: ["job.id": "\(jobId)", "error": "\(error)"])
            return
        }
        var properties = MessageProperties()
        properties.contentType = "application/json"
        properties.correlationId = correlationId
        properties.messageId = UUID().uuidString.lowercased()
        properties.headers = ["job-id": .string(jobId), "job-state": .string(snapshot.state)]
        do {
            try await publisher.publish(exchange: "", routingKey: replyTo, body: snapshot.encoded(), properties: properties)
        } catch {
            logger.warning("status reply not delivered", metadata: ["job.id": "\(jobId)", "reply_to": "\(replyTo)", "error": "\(error)"])
        }
    }
}
