import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// A connection to a yagna node's service bus: the TCP connection an exe-unit holds to its node's GSB
/// router (`GSB_URL`, `tcp://127.0.0.1:7464` by default). It calls services — such as a requestor's
/// GFTP file at `/transfer/net/<node>/gftp/<id>` — and serves the addresses it ``register(_:)``s,
/// such as an exe-unit's `/public/exeunit/<activity>`. Served here, unlike through yagna's REST GSB
/// API, a reply can be a stream: partial replies, then an empty full one (`StreamExecBatchResults`).
///
/// Calls are pipelined on the one connection: each waits for the `CallReply` with its request id.
/// Each incoming call is answered in its own task. The connection lives for the body of
/// ``withConnection(to:name:maxPacket:logger:serving:_:)``; the router forgets its registrations
/// when it closes.
public final class GSBBus: Sendable {
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private let allocator: ByteBufferAllocator
    private let handler: GSBCallHandler?
    private let state = Mutex(State())
    /// The caller a request names. yagna's net replaces it with the node's own id on the way out.
    private let caller = "local"
    /// Request ids must be unique on the node, not only on this connection: yagna's net matches a
    /// remote call's reply by its request id, and two connections that both counted from 1 got each
    /// other's replies (a GFTP chunk of another file, at the same offset, under parallel tests).
    private let requestIdPrefix = "gb-\(UUID().uuidString.lowercased())-"

    private struct State {
        var pending: [String: (address: String, continuation: CheckedContinuation<[UInt8], any Error>)] = [:]
        /// Registrations sent, in order: the router answers them in order, without an id.
        var registrations: [(address: String, continuation: CheckedContinuation<Void, any Error>)] = []
        var closed: GSBCallError?
        var closeWaiters: [CheckedContinuation<Void, Never>] = []
        var nextId = 0
    }

    private init(outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, allocator: ByteBufferAllocator, handler: GSBCallHandler?) {
        self.outbound = outbound
        self.allocator = allocator
        self.handler = handler
    }

    /// Connects to `url` (`tcp://host:port`), says hello, runs `body` with the bus, and closes.
    /// `handler` answers the calls to the addresses `body` registers.
    public static func withConnection<T: Sendable>(
        to url: String, name: String = "golem-bridge-provider", maxPacket: Int = 64 << 20, logger: Logger,
        serving handler: GSBCallHandler? = nil, _ body: @Sendable (GSBBus) async throws -> T
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
            let bus = GSBBus(outbound: outbound, allocator: channel.channel.allocator, handler: handler)
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
            return "\(requestIdPrefix)\(state.nextId)"
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

    /// Registers `address` with the router: calls to it, and to any address under it, come to this
    /// connection's handler until it closes. Throws when the router refuses (409: another
    /// connection serves it) or the connection ends first.
    public func register(_ address: String) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let refusal = state.withLock { state -> (any Error)? in
                if let closed = state.closed { return closed }
                state.registrations.append((address, continuation))
                return nil
            }
            if let refusal {
                continuation.resume(throwing: refusal)
                return
            }
            Task {
                do { try await self.send(.registerRequest(serviceId: address)) } catch {
                    self.registered(code: GSBCallError.sendFailed, message: "\(error)")
                }
            }
        }
    }

    /// Returns when the connection has ended (the router closed it or it failed), or the task is
    /// cancelled: how a service's body waits while its handler answers calls.
    public func untilClosed() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let done = state.withLock { state -> Bool in
                    guard state.closed == nil, !Task.isCancelled else { return true }
                    state.closeWaiters.append(continuation)
                    return false
                }
                if done { continuation.resume() }
            }
        } onCancel: {
            let waiters = state.withLock { state in
                defer { state.closeWaiters = [] }
                return state.closeWaiters
            }
            for waiter in waiters { waiter.resume() }
        }
    }

    /// Hands the router's answer to the oldest registration waiting.
    private func registered(code: UInt64, message: String) {
        let waiting = state.withLock { state in state.registrations.isEmpty ? nil : state.registrations.removeFirst() }
        guard let waiting else { return }
        if code == 0 {
            waiting.continuation.resume()
        } else {
            waiting.continuation.resume(throwing: GSBCallError(address: waiting.address, kind: .notRegistered(code), message: message))
        }
    }

    func send(_ packet: GSBPacket) async throws {
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

    /// Hands each reply to its call, each incoming call to the handler (in a task of its own) and
    /// answers pings, until the connection ends; then cancels the calls being answered and fails
    /// the calls and registrations still waiting.
    private func read(_ inbound: NIOAsyncChannelInboundStream<ByteBuffer>, logger: Logger) async {
        let reason = await withDiscardingTaskGroup { incoming -> String in
            defer { incoming.cancelAll() }
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
                    case .callRequest(let caller, let address, let requestId, let data, let noReply):
                        incoming.addTask {
                            await self.answer(GSBIncomingCall(caller: caller, address: address, data: data), requestId: requestId, noReply: noReply, logger: logger)
                        }
                    case .registerReply(let code, let message): registered(code: code, message: message)
                    case .ping: try await send(.pong)
                    case .hello(let name, let version, _):
                        logger.debug("GSB router said hello", metadata: ["gsb.router": "\(name) \(version)"])
                    default: logger.debug("GSB packet ignored", metadata: ["gsb.packet": "\(packet)"])
                    }
                }
                return "the GSB router closed the connection"
            } catch {
                return "the GSB connection failed: \(error)"
            }
        }
        let (calls, registrations, waiters) = state.withLock { state in
            state.closed = GSBCallError(address: "", kind: .connection, message: reason)
            defer { state.pending = [:]; state.registrations = []; state.closeWaiters = [] }
            return (state.pending, state.registrations, state.closeWaiters)
        }
        for waiter in waiters { waiter.resume() }
        for (_, call) in calls {
            call.continuation.resume(throwing: GSBCallError(address: call.address, kind: .connection, message: reason))
        }
        for registration in registrations {
            registration.continuation.resume(throwing: GSBCallError(address: registration.address, kind: .connection, message: reason))
        }
    }

    /// Runs the handler for one incoming call and sends its final reply (none for a call that wants
    /// none). A call with no handler is refused as a bad request.
    private func answer(_ call: GSBIncomingCall, requestId: String, noReply: Bool, logger: Logger) async {
        let final: GSBPacket
        if let handler {
            do {
                let data = try await handler(call, GSBReplier(bus: self, requestId: requestId, silent: noReply))
                final = .callReply(requestId: requestId, code: .ok, partial: false, data: data)
            } catch let failure as GSBServiceFailure {
                final = .callReply(requestId: requestId, code: failure.code, partial: false, data: Array(failure.message.utf8))
            } catch {
                final = .callReply(requestId: requestId, code: .serviceFailure, partial: false, data: Array("\(error)".utf8))
            }
        } else {
            final = .callReply(requestId: requestId, code: .badRequest, partial: false, data: Array("\(call.address) is not served here".utf8))
        }
        guard !noReply else { return }
        do { try await send(final) } catch {
            logger.debug("a GSB reply could not be sent", metadata: ["gsb.address": "\(call.address)", "error": "\(error)"])
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
        /// The router refused a registration: 400 a bad name, 409 served by another connection.
        case notRegistered(UInt64)
    }

    /// The code a registration fails with when its request could not be sent.
    static let sendFailed: UInt64 = 1
    public var address: String
    public var kind: Kind
    public var message: String

    public var description: String {
        switch kind {
        case .connection: "GSB: \(message)"
        case .refused(let code): "GSB call to \(address) refused (\(code)): \(message)"
        case .notRegistered(let code): "GSB router did not register \(address) (\(code)): \(message)"
        }
    }
}

/// A call to an address this connection registered.
public struct GSBIncomingCall: Sendable {
    /// Who calls (`/net/<node>` for a call from another node, as the router passes it on).
    public var caller: String
    /// The whole address: the registered one, then `/<message name>` (`Exec`, `GetChunk`...).
    public var address: String
    /// The request, serialized with FlexBuffers.
    public var data: [UInt8]

    public init(caller: String, address: String, data: [UInt8]) {
        self.caller = caller
        self.address = address
        self.data = data
    }

    /// The last segment of the address: the message's name.
    public var messageName: Substring { address.split(separator: "/").last ?? "" }
}

/// Answers an incoming call: returns the full reply's data (an empty one ends a stream), or throws
/// (``GSBServiceFailure`` for a chosen code; any other error as a service failure). Before that,
/// ``GSBReplier/partial(_:)`` sends a streamed reply's items.
public typealias GSBCallHandler = @Sendable (GSBIncomingCall, GSBReplier) async throws -> [UInt8]

/// Sends the items of a streamed reply to one incoming call.
public struct GSBReplier: Sendable {
    let bus: GSBBus
    let requestId: String
    /// The caller wants no reply.
    let silent: Bool

    /// One item of the stream. Throws when the connection is gone.
    public func partial(_ data: [UInt8]) async throws {
        guard !silent else { return }
        try await bus.send(.callReply(requestId: requestId, code: .ok, partial: true, data: data))
    }
}

/// What a handler throws to refuse a call with a given code and message.
public struct GSBServiceFailure: Error, Sendable, CustomStringConvertible {
    public var code: GSBPacket.CallReplyCode
    public var message: String

    public init(_ code: GSBPacket.CallReplyCode, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
