/// The packets of ya-service-bus's TCP protocol (crates/proto `gsb_api.proto`) that a caller and a
/// service need, in protobuf by hand: each packet is a `Packet` message whose one field (the `oneof`
/// number) holds the body, framed by its length as a big-endian UInt32 (``GSBFrameDecoder``).
/// Fields at their default value are left out, as prost does. Pure.
public enum GSBPacket: Equatable, Sendable {
    /// `Hello` (1): both ends send one when the connection opens.
    case hello(name: String, version: String, instanceId: [UInt8])
    /// `RegisterRequest` (2): serve every address under `serviceId` on this connection.
    case registerRequest(serviceId: String)
    /// `RegisterReply` (3): code 0 registered, 400 a bad name, 409 already registered elsewhere.
    case registerReply(code: UInt64, message: String)
    /// `CallRequest` (6): `data` is the request serialized with FlexBuffers (serde's layout).
    case callRequest(caller: String, address: String, requestId: String, data: [UInt8], noReply: Bool)
    /// `CallReply` (7): `partial` for each item of a streamed reply; a full reply ends the call (an
    /// empty one ends a stream).
    case callReply(requestId: String, code: CallReplyCode, partial: Bool, data: [UInt8])
    /// `Ping` (14) / `Pong` (15): the router pings idle connections; a pong answers.
    case ping
    case pong
    /// A packet this client does not use (unregister, subscribe, broadcast...), by its field number.
    case other(field: UInt64)

    /// `CallReplyCode`: 0 ok, 400 bad request (no such service, duplicate id), 500 service failure.
    public enum CallReplyCode: Equatable, Sendable {
        case ok
        case badRequest
        case serviceFailure
        case unknown(UInt64)

        init(_ raw: UInt64) {
            switch raw {
            case 0: self = .ok
            case 400: self = .badRequest
            case 500: self = .serviceFailure
            default: self = .unknown(raw)
            }
        }

        var raw: UInt64 {
            switch self {
            case .ok: 0
            case .badRequest: 400
            case .serviceFailure: 500
            case .unknown(let raw): raw
            }
        }
    }

    /// The `Packet` message, without the length prefix.
    public func encoded() -> [UInt8] {
        var body = Protobuf.Writer()
        let field: UInt64
        switch self {
        case .hello(let name, let version, let instanceId):
            field = 1
            body.string(1, name)
            body.string(2, version)
            body.bytes(3, instanceId)
        case .registerRequest(let serviceId):
            field = 2
            body.string(1, serviceId)
        case .registerReply(let code, let message):
            field = 3
            body.varint(1, code)
            body.string(2, message)
        case .callRequest(let caller, let address, let requestId, let data, let noReply):
            field = 6
            body.string(1, caller)
            body.string(2, address)
            body.string(3, requestId)
            body.bytes(4, data)
            body.varint(5, noReply ? 1 : 0)
        case .callReply(let requestId, let code, let partial, let data):
            field = 7
            body.string(1, requestId)
            body.varint(2, code.raw)
            body.varint(3, partial ? 1 : 0)
            body.bytes(4, data)
        case .ping: field = 14
        case .pong: field = 15
        case .other(let number): field = number
        }
        var packet = Protobuf.Writer()
        packet.message(field, body.bytes)
        return packet.bytes
    }

    /// Reads one `Packet` message (without its length prefix).
    public static func decode(_ bytes: [UInt8]) throws(GSBProtocolError) -> GSBPacket {
        let fields = try Protobuf.fields(bytes)
        guard let (kind, value) = fields.last, case .bytes(let body) = value else {
            throw GSBProtocolError("a packet without a message")
        }
        let inner = try Protobuf.fields(body)
        func text(_ n: UInt64) -> String { inner.last { $0.0 == n }.flatMap { if case .bytes(let b) = $0.1 { String(decoding: b, as: UTF8.self) } else { nil } } ?? "" }
        func blob(_ n: UInt64) -> [UInt8] { inner.last { $0.0 == n }.flatMap { if case .bytes(let b) = $0.1 { b } else { nil } } ?? [] }
        func number(_ n: UInt64) -> UInt64 { inner.last { $0.0 == n }.flatMap { if case .varint(let v) = $0.1 { v } else { nil } } ?? 0 }
        switch kind {
        case 1: return .hello(name: text(1), version: text(2), instanceId: blob(3))
        case 2: return .registerRequest(serviceId: text(1))
        case 3: return .registerReply(code: number(1), message: text(2))
        case 6: return .callRequest(caller: text(1), address: text(2), requestId: text(3), data: blob(4), noReply: number(5) != 0)
        case 7: return .callReply(requestId: text(1), code: CallReplyCode(number(2)), partial: number(3) == 1, data: blob(4))
        case 14: return .ping
        case 15: return .pong
        default: return .other(field: kind)
        }
    }
}

public struct GSBProtocolError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The protobuf wire format as far as GSB packets need it: varints and length-delimited fields.
enum Protobuf {
    enum Value: Equatable {
        case varint(UInt64)
        case bytes([UInt8])
    }

    struct Writer {
        var bytes: [UInt8] = []

        mutating func rawVarint(_ value: UInt64) {
            var value = value
            while value >= 0x80 {
                bytes.append(UInt8(value & 0x7F) | 0x80)
                value >>= 7
            }
            bytes.append(UInt8(value))
        }

        mutating func varint(_ field: UInt64, _ value: UInt64) {
            guard value != 0 else { return }
            rawVarint(field << 3)
            rawVarint(value)
        }

        mutating func bytes(_ field: UInt64, _ value: [UInt8]) {
            guard !value.isEmpty else { return }
            message(field, value)
        }

        mutating func string(_ field: UInt64, _ value: String) { bytes(field, Array(value.utf8)) }

        /// A length-delimited field, written even when empty (an empty `Ping` still names the packet).
        mutating func message(_ field: UInt64, _ value: [UInt8]) {
            rawVarint(field << 3 | 2)
            rawVarint(UInt64(value.count))
            bytes += value
        }
    }

    static func fields(_ bytes: [UInt8]) throws(GSBProtocolError) -> [(UInt64, Value)] {
        var fields: [(UInt64, Value)] = []
        var index = 0
        func varint() throws(GSBProtocolError) -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard index < bytes.count, shift < 64 else { throw GSBProtocolError("a truncated varint") }
                let byte = bytes[index]
                index += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
            }
        }
        while index < bytes.count {
            let key = try varint()
            switch key & 7 {
            case 0: fields.append((key >> 3, .varint(try varint())))
            case 2:
                let length = try varint()
                guard length <= UInt64(bytes.count - index) else { throw GSBProtocolError("a field longer than its packet") }
                fields.append((key >> 3, .bytes(Array(bytes[index..<index + Int(length)]))))
                index += Int(length)
            case 1: index += 8
            case 5: index += 4
            default: throw GSBProtocolError("wire type \(key & 7) is not used by GSB")
            }
            guard index <= bytes.count else { throw GSBProtocolError("a truncated fixed-width field") }
        }
        return fields
    }
}
