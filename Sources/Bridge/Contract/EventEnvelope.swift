/// An encoded event, ready to publish to `golem.events` (and to a requester's `reply_to`).
public struct EventEnvelope: Sendable, Hashable {
    /// The CloudEvent `id`; also the AMQP `message_id`. A republished event keeps it.
    public var id: String
    /// `job.<jobId>.<event>`.
    public var routingKey: String
    /// The CloudEvents 1.0 structured JSON.
    public var body: [UInt8]
    /// AMQP headers: `job-id`, `job-event`, `job-state`.
    public var headers: [String: String]
    public var contentType: String

    public init(
        id: String, routingKey: String, body: [UInt8], headers: [String: String],
        contentType: String = EventCodec.contentType
    ) {
        self.id = id
        self.routingKey = routingKey
        self.body = body
        self.headers = headers
        self.contentType = contentType
    }
}
