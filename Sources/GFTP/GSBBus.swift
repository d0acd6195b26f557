import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// A caller on a yagna node's service bus: the TCP connection an exe-unit holds to its node's GSB
/// router (`GSB_URL`, `tcp://127.0.0.1:7464` by default). yagna's REST GSB API only binds services;
/// calling one — such as a requestor's GFTP file at `/transfer/net/<node>/gftp/<id>` — takes this.
///
/// Calls are pipelined on the one connection: each waits for the `CallReply` with its request id.
/// The connection lives for the body of ``withConnection(to:name:maxPacket:logger:_:)``.
public final class GSBBus: Sendable {
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private let allocator: ByteBufferAllocator
    private let state = Mutex(State())
    /// The caller a request names. yagna's net replaces it with the node's own id on the way out.
    private let caller = "local"

    private struct State {
        var pending: [String: (address: String, continuation: CheckedContinuation<[UInt8], any Error>)] = [:]
        var closed: GSBCallError?
        var nextId = 0
    }

    private init(outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, allocator: ByteBufferAllocator) {
        self.outbound = outbound
        self.allocator = allocator
    }

    /// Connects to `url` (`tcp://host:port`), says hello, runs `body` with the bus, and closes.
    public static func withConnection<T: Sendable>(
        to url: String, name: String = "golem-bridge-provider", maxPacket: Int = 64 << 20, logger: Logger,
        _ body: @Sendable (GSBBus) async throws -> T
    ) async throws -> T {
        let (host, port) = try endpoint(url)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(GSBFrameDecoder(maxFrame: maxPacket)))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            let bus = GSBBus(outbound: outbound, allocator: channel.channel.allocator)
            try await bus.send(.hello(name: name, version: "0.7.3", instanceId: withUnsafeBytes(of: UUID().uuid) { Array($0) }))
            return try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await bus.read(inbound, logger: logger) }
                defer { group.cancelAll() }
                return try await body(bus)
            }
        }
    }

    /// Calls `address` with `data` (FlexBuffers) and returns the reply's data.
    public func call(_ address: String, data: [UInt8]) async throws -> [UInt8] {
        let requestId = state.withLock { state -> String in
            state.nextId += 1
            return "gb-\(state.nextId)"
        }
        let packet = GSBPacket.callRequest(caller: caller, address: address, requestId: requestId, data: data, noReply: false)
        // A cancelled caller stops waiting; a reply that comes later finds no one and is dropped.
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let refusal = state.withLock { state -> (any Error)? in
                    if let closed = state.closed { return closed }
                    if Task.isCancelled { return CancellationError() }
                    state.pending[requestId] = (address, continuation)
                    return nil
                }
                if let refusal {
                    continuation.resume(throwing: refusal)
                    return
                }
                Task {
                    do { try await self.send(packet) } catch {
                        self.finish(requestId, with: .failure(GSBCallError(address: address, kind: .connection, message: "\(error)")))
                    }
                }
            }
        } onCancel: {
            finish(requestId, with: .failure(CancellationError()))
        }
    }

    private func send(_ packet: GSBPacket) async throws {
        try await outbound.write(GSBFrameDecoder.frame(packet, allocator: allocator))
    }

    private func finish(_ requestId: String, with result: Result<[UInt8], any Error>) {
        let waiting = state.withLock { $0.pending.removeValue(forKey: requestId) }
        waiting?.continuation.resume(with: result)
    }

    /// Fails the call: the bus refused it with `code`.
    private func refuse(_ requestId: String, code: GSBPacket.CallReplyCode, message: String) {
        let waiting = state.withLock { $0.pending.removeValue(forKey: requestId) }
        waiting?.continuation.resume(throwing: GSBCallError(address: waiting?.address ?? "", kind: .refused(code), message: message))
    }

    /// Hands each reply to its call and answers pings, until the connection ends; then fails the
    /// calls still waiting.
    private func read(_ inbound: NIOAsyncChannelInboundStream<ByteBuffer>, logger: Logger) async {
        var reason = "the GSB router closed the connection"
        do {
            for try await frame in inbound {
                let packet = try GSBPacket.decode(Array(frame.readableBytesView))
                switch packet {
                case .callReply(let requestId, let code, _, let data):
                    switch code {
                    case .ok: finish(requestId, with: .success(data))
                    case .badRequest, .serviceFailure, .unknown:
                        refuse(requestId, code: code, message: String(decoding: data, as: UTF8.self))
                    }
                case .ping: try await send(.pong)
                case .hello(let name, let version, _):
                    logger.debug("GSB router said hello", metadata: ["gsb.router": "\(name) \(version)"])
                default: logger.debug("GSB packet ignored", metadata: ["gsb.packet": "\(packet)"])
                }
            }
        } catch {
            reason = "the GSB connection failed: \(error)"
        }
        let waiting = state.withLock { state in
            state.closed = GSBCallError(address: "", kind: .connection, message: reason)
            defer { state.pending = [:] }
            return state.pending
        }
        for (_, call) in waiting {
            call.continuation.resume(throwing: GSBCallError(address: call.address, kind: .connection, message: reason))
        }
    }

    static func endpoint(_ url: String) throws -> (String, Int) {
        guard let components = URLComponents(string: url), components.scheme == "tcp",
              let host = components.host, let port = components.port else {
            throw GSBCallError(address: url, kind: .connection, message: "a GSB URL is tcp://host:port")
        }
        return (host, port)
    }
}

/// A GSB call that got no usable answer.
public struct GSBCallError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// No connection, or it closed before the reply.
        case connection
        /// The bus answered with an error code (no such service, the service failed).
        case refused(GSBPacket.CallReplyCode)
    }
    public var address: String
    public var kind: Kind
    public var message: String

    public var description: String {
        switch kind {
        case .connection: "GSB: \(message)"
        case .refused(let code): "GSB call to \(address) refused (\(code)): \(message)"
        }
    }
}
