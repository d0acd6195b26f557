import Foundation

/// The basic-class content properties of a message. Every field is optional; nil/empty is not sent.
public struct MessageProperties: Sendable, Hashable {
    public enum DeliveryMode: UInt8, Sendable, Hashable {
        case transient = 1
        case persistent = 2
    }

    public var contentType: String?
    public var contentEncoding: String?
    public var headers: [String: FieldValue]
    public var deliveryMode: DeliveryMode?
    public var priority: UInt8?
    public var correlationId: String?
    public var replyTo: String?
    public var expiration: String?
    public var messageId: String?
    /// Second precision on the wire.
    public var timestamp: Date?
    public var type: String?
    public var userId: String?
    public var appId: String?

    public init(
        contentType: String? = nil, contentEncoding: String? = nil, headers: [String: FieldValue] = [:],
        deliveryMode: DeliveryMode? = nil, priority: UInt8? = nil, correlationId: String? = nil,
        replyTo: String? = nil, expiration: String? = nil, messageId: String? = nil, timestamp: Date? = nil,
        type: String? = nil, userId: String? = nil, appId: String? = nil
    ) {
        self.contentType = contentType
        self.contentEncoding = contentEncoding
        self.headers = headers
        self.deliveryMode = deliveryMode
        self.priority = priority
        self.correlationId = correlationId
        self.replyTo = replyTo
        self.expiration = expiration
        self.messageId = messageId
        self.timestamp = timestamp
        self.type = type
        self.userId = userId
        self.appId = appId
    }
}
