import AMQP
import Foundation

extension BridgeService {
    /// Asks for a job to be canceled the way a client does: a `job.<jobId>.cancel` message on the
    /// control exchange, which every bridge hears (so it reaches the bridge that runs the job, and is
    /// remembered for one that has not arrived). Returns once the broker confirmed it.
    /// - Throws: ``BridgeServiceError`` when the bridge is not running; the publisher's error otherwise.
    public func requestCancel(jobId: String, reason: String?) async throws {
        guard RequestCodec.isValidJobId(jobId) else { throw BridgeServiceError("\"\(jobId)\" is not a job ID") }
        guard let publisher = controlPublisherNow else { throw BridgeServiceError("the bridge is not running") }
        var properties = MessageProperties()
        properties.contentType = "application/json"
        properties.messageId = UUID().uuidString.lowercased()
        try await publisher.publish(
            exchange: names.controlExchange, routingKey: ControlCodec.routingKey(jobId: jobId, action: .cancel),
            body: ControlCodec.cancelBody(reason: reason), properties: properties
        )
    }
}
