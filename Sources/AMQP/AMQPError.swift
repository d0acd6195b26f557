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

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

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
