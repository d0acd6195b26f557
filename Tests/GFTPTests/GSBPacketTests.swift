import Testing
@testable import GFTP

@Suite struct GSBPacketTests {
    /// The hello yagna 0.17.6's router sent first on a new connection (captured 2026-12-03).
    @Test func readsTheRoutersHello() throws {
        let instance: [UInt8] = [0x9E, 0x42, 0xD9, 0xCA, 0xB3, 0x65, 0x4A, 0x57, 0xBF, 0xD9, 0xD0, 0x78, 0xA6, 0x9A, 0x57, 0x69]
        let body: [UInt8] = [0x0A, 0x0C] + Array("ya-sb-router".utf8) + [0x12, 0x05] + Array("0.6.4".utf8) + [0x1A, 0x10] + instance
        let packet = try GSBPacket.decode([0x0A, UInt8(body.count)] + body)
        #expect(packet == .hello(name: "ya-sb-router", version: "0.6.4", instanceId: instance))
    }

    /// A reply with code 0 and no data leaves both fields out, as prost writes it.
    @Test func readsAReplyWithDefaultFieldsLeftOut() throws {
        let packet = try GSBPacket.decode([0x3A, 0x07, 0x0A, 0x05] + Array("req-1".utf8))
        #expect(packet == .callReply(requestId: "req-1", code: .ok, partial: false, data: []))
    }

    @Test func aCallRequestIsFieldSixWithItsFieldsInOrder() throws {
        let packet = GSBPacket.callRequest(caller: "local", address: "/a", requestId: "1", data: [0, 0, 1], noReply: false)
        let bytes = packet.encoded()
        #expect(bytes == [0x32, 0x13, 0x0A, 0x05] + Array("local".utf8) + [0x12, 0x02] + Array("/a".utf8) + [0x1A, 0x01, 0x31, 0x22, 0x03, 0, 0, 1])
        #expect(try GSBPacket.decode(bytes) == packet)
    }

    @Test func repliesWithErrorCodesRoundTrip() throws {
        for code in [GSBPacket.CallReplyCode.badRequest, .serviceFailure, .unknown(7)] {
            let packet = GSBPacket.callReply(requestId: "r", code: code, partial: true, data: Array("no".utf8))
            #expect(try GSBPacket.decode(packet.encoded()) == packet)
        }
    }

    /// A service registers its address with field 2; the router answers in field 3, code and message
    /// left out when registered.
    @Test func registrationPacketsRoundTrip() throws {
        let request = GSBPacket.registerRequest(serviceId: "/public/exeunit/a1")
        #expect(request.encoded() == [0x12, 0x14, 0x0A, 0x12] + Array("/public/exeunit/a1".utf8))
        #expect(try GSBPacket.decode(request.encoded()) == request)
        #expect(try GSBPacket.decode([0x1A, 0x00]) == .registerReply(code: 0, message: ""))
        let conflict = GSBPacket.registerReply(code: 409, message: "already registered")
        #expect(try GSBPacket.decode(conflict.encoded()) == conflict)
    }

    /// A ping is an empty message in field 14: the field must still be written.
    @Test func pingAndPongAreEmptyMessages() throws {
        #expect(GSBPacket.pong.encoded() == [0x7A, 0x00])
        #expect(try GSBPacket.decode([0x72, 0x00]) == .ping)
    }

    @Test func truncatedPacketsAreRefused() {
        #expect(throws: GSBProtocolError.self) { try GSBPacket.decode([0x3A, 0x09, 0x0A, 0x05, 0x72]) }
        #expect(throws: GSBProtocolError.self) { try GSBPacket.decode([0x3A, 0x07, 0x0A, 0x80]) }
        #expect(throws: GSBProtocolError.self) { try GSBPacket.decode([]) }
    }
}
