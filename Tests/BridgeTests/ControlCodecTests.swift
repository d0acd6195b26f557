import Testing
@testable import Bridge

@Suite struct ControlCodecTests {
    @Test func parsesControlRoutingKeys() {
        #expect(ControlCodec.parse(routingKey: "job.abc-1.cancel") == .init(jobId: "abc-1", action: .cancel))
        #expect(ControlCodec.parse(routingKey: "job.a:b_c.status") == .init(jobId: "a:b_c", action: .status))
        for key in ["job.abc.pause", "jobs.abc.cancel", "job..cancel", "job.a.b.cancel", "job.abc", "job.a*.cancel"] {
            #expect(ControlCodec.parse(routingKey: key) == nil, "\(key)")
        }
    }

    @Test func cancelReasonIsOptionalAndLenient() {
        #expect(ControlCodec.cancelReason([]) == nil)
        #expect(ControlCodec.cancelReason(Array(#"{"reason":"too slow"}"#.utf8)) == "too slow")
        #expect(ControlCodec.cancelReason(Array(#"{}"#.utf8)) == nil)
        #expect(ControlCodec.cancelReason(Array("garbage".utf8)) == nil)
        #expect(ControlCodec.cancelReason(Array(#"{"reason":7}"#.utf8)) == nil)
        let long = String(repeating: "é", count: 2000)
        let cut = ControlCodec.cancelReason(Array(#"{"reason":"\#(long)"}"#.utf8))
        #expect(cut?.unicodeScalars.count == ControlCodec.maxReasonLength)
    }

    @Test func whatTheClientWritesTheBridgeReads() {
        let key = ControlCodec.routingKey(jobId: "abc-1", action: .cancel)
        #expect(ControlCodec.parse(routingKey: key) == .init(jobId: "abc-1", action: .cancel))
        #expect(ControlCodec.cancelReason(ControlCodec.cancelBody(reason: "no longer \"needed\"")) == "no longer \"needed\"")
        #expect(ControlCodec.cancelBody(reason: nil).isEmpty)
    }
}
