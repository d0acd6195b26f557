import NIOCore

/// Splits the TCP stream into GSB packets: each is preceded by its length, a big-endian UInt32
/// (ya-sb-proto `codec.rs`). A frame above `maxFrame` bytes closes the connection.
struct GSBFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer
    let maxFrame: Int

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return .needMoreData }
        guard Int(length) <= maxFrame else { throw GSBProtocolError("a GSB packet of \(length) bytes (limit \(maxFrame))") }
        guard buffer.readableBytes >= 4 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        context.fireChannelRead(wrapInboundOut(buffer.readSlice(length: Int(length))!))
        return .continue
    }

    /// One packet with its length prefix.
    static func frame(_ packet: GSBPacket, allocator: ByteBufferAllocator) -> ByteBuffer {
        let body = packet.encoded()
        var buffer = allocator.buffer(capacity: 4 + body.count)
        buffer.writeInteger(UInt32(body.count))
        buffer.writeBytes(body)
        return buffer
    }
}
