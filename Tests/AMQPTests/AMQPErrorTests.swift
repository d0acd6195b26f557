import AMQP
import Testing

@Suite("AMQPError: which broker failures a starting client tries again")
struct AMQPErrorTests {
    @Test(arguments: [UInt16(320), 506, 541])
    func aConnectionTheBrokerClosedForItsOwnCauseIsTransient(code: UInt16) {
        let error = AMQPError(.connectionClosed, "basic.consume 'q': broker closed the connection: \(code) …", brokerReplyCode: code)
        #expect(error.isTransientBrokerFailure)
    }

    @Test(arguments: [UInt16(402), 403, 501, 503, 530, 540])
    func aConnectionClosedForTheClientsCauseIsNot(code: UInt16) {
        let error = AMQPError(.connectionClosed, "broker closed the connection: \(code) …", brokerReplyCode: code)
        #expect(!error.isTransientBrokerFailure)
    }

    @Test func onlyAConnectionCloseCounts() {
        #expect(!AMQPError(.connectionClosed, "socket closed unexpectedly").isTransientBrokerFailure)
        #expect(!AMQPError(.connectionFailed, "could not connect: connection refused", brokerReplyCode: 541).isTransientBrokerFailure)
        #expect(!AMQPError(.channelClosed(replyCode: 541, replyText: "INTERNAL_ERROR"), "…").isTransientBrokerFailure)
        #expect(!AMQPError(.authenticationFailed, "ACCESS_REFUSED").isTransientBrokerFailure)
    }
}
