/// An error from the AMQP client. `kind` is stable and meant for matching; `message` names the cause.
public struct AMQPError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// The URL or a configuration value is invalid.
        case invalidConfiguration
        /// TCP connect, TLS handshake or the AMQP handshake failed (not authentication).
        case connectionFailed
        /// The TLS handshake failed (for example amqps:// against a plain AMQP port).
        case tlsFailed
        /// The broker refused the credentials (ACCESS_REFUSED during login).
        case authenticationFailed
        /// The broker closed the channel (e.g. 404 NOT_FOUND for a missing exchange). The connection is kept.
        case channelClosed(replyCode: UInt16, replyText: String)
        /// The connection was lost or closed by the broker while the operation was pending.
        case connectionClosed
        /// The broker answered a publish with basic.nack.
        case nacked
        /// A mandatory publish could not be routed (basic.return, usually 312 NO_ROUTE).
        case returned(replyCode: UInt16, replyText: String)
        /// The operation did not complete in time.
        case timeout
        /// The broker or library sent something the client did not expect.
        case protocolError
        /// The publisher or consumer was closed before the operation completed.
        case closed
    }

    public let kind: Kind
    public let message: String
    /// The reply code of the broker's `connection.close` behind a ``Kind/connectionClosed``, if the broker sent one.
    public let brokerReplyCode: UInt16?

    public init(_ kind: Kind, _ message: String, brokerReplyCode: UInt16? = nil) {
        self.kind = kind
        self.message = message
        self.brokerReplyCode = brokerReplyCode
    }

    /// True when the broker closed the connection for a cause of its own that a later attempt may not meet:
    /// 320 CONNECTION_FORCED (the node is stopping), 541 INTERNAL_ERROR (for example a quorum queue whose
    /// replica is still starting: RabbitMQ 3.10 answers `basic.consume` with it) and 506 RESOURCE_ERROR.
    /// A bridge that meets one while it starts tries again instead of exiting.
    public var isTransientBrokerFailure: Bool {
        guard case .connectionClosed = kind, let code = brokerReplyCode else { return false }
        return Self.transientReplyCodes.contains(code)
    }

    static let transientReplyCodes: Set<UInt16> = [320, 506, 541]

    /// True when the error ended (or came from) the whole connection rather than one channel or message.
    public var isConnectionFatal: Bool {
        switch kind {
        case .connectionFailed, .tlsFailed, .authenticationFailed, .connectionClosed, .protocolError, .timeout:
            return true
        case .invalidConfiguration, .channelClosed, .nacked, .returned, .closed:
            return false
        }
    }

    public var description: String {
        switch kind {
        case .channelClosed(let code, let text): return "AMQPError.channelClosed(\(code) \(text)): \(message)"
        case .returned(let code, let text): return "AMQPError.returned(\(code) \(text)): \(message)"
        default: return "AMQPError.\(kind): \(message)"
        }
    }
}
