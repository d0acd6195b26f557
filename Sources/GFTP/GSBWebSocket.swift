import FlexBuffers
import Foundation
import HTTPTypes
import Logging
import WSClient

/// One request from yagna's GSB WebSocket API: `{id, component, payload}` in FlexBuffers; the
/// reply is `{id, payload}` or `{id, error: {Variant: message}}`.
public struct GSBRequest: Sendable {
    public var id: String
    public var component: String
    public var payload: FlexValue

    public init(id: String, component: String, payload: FlexValue) {
        self.id = id
        self.component = component
        self.payload = payload
    }

    /// nil when the value has no id or component.
    public init?(_ value: FlexValue) {
        guard let id = value["id"]?.stringValue, let component = value["component"]?.stringValue else { return nil }
        self.init(id: id, component: component, payload: value["payload"] ?? .null)
    }

    public func reply(_ payload: FlexValue) -> FlexValue {
        .map([("id", .string(id)), ("payload", payload)])
    }

    /// An error reply: yagna hands `{Variant: message}` to the caller as the `Err` of its `Result`.
    public func reply(error: FlexValue) -> FlexValue {
        .map([("id", .string(id)), ("error", error)])
    }
}

/// Serves services bound with `POST /gsb-api/v1/services` on their WebSocket (subprotocol
/// `gsb+flexbuffers`, binary frames), shared by the provider agent's exe-unit and the requestor's
/// GFTP files. Each request is answered in its own task, so a slow one does not hold the others.
public enum GSBWebSocket {
    /// Serves until the socket closes (yagna closes it when the services are unbound) or the task is
    /// cancelled. A frame that is not a request is logged and dropped.
    public static func serve(
        apiURL: String, appKey: String, servicesId: String, maxFrameSize: Int, logger: Logger,
        answer: @escaping @Sendable (GSBRequest) async -> FlexValue
    ) async throws {
        let wsURL = apiURL.replacingOccurrences(of: "http://", with: "ws://").replacingOccurrences(of: "https://", with: "wss://")
            + "/gsb-api/v1/services/\(servicesId)"
        var headers = HTTPFields()
        headers[.authorization] = "Bearer \(appKey)"
        headers[HTTPField.Name("Sec-WebSocket-Protocol")!] = "gsb+flexbuffers"
        let configuration = WebSocketClientConfiguration(maxFrameSize: maxFrameSize, additionalHeaders: headers)
        try await WebSocketClient.connect(url: wsURL, configuration: configuration, logger: logger) { inbound, outbound, _ in
            logger.debug("GSB WebSocket open", metadata: ["gsb.services": "\(servicesId)"])
            try await withThrowingDiscardingTaskGroup { group in
                for try await message in inbound.messages(maxSize: maxFrameSize) {
                    guard case .binary(let buffer) = message else { continue }
                    let bytes = Array(buffer.readableBytesView)
                    group.addTask {
                        guard let reply = await respond(bytes, logger: logger, answer: answer) else { return }
                        try await outbound.write(.binary(.init(bytes: reply)))
                    }
                }
            }
        }
    }

    static func respond(_ bytes: [UInt8], logger: Logger, answer: @Sendable (GSBRequest) async -> FlexValue) async -> [UInt8]? {
        let request: GSBRequest
        do {
            guard let decoded = GSBRequest(try FlexBuffersDecoder().decode(bytes)) else {
                logger.warning("GSB frame without id or component dropped")
                return nil
            }
            request = decoded
        } catch {
            logger.warning("unreadable GSB frame dropped", metadata: ["error": "\(error)"])
            return nil
        }
        let reply = await answer(request)
        do {
            return try FlexBuffersEncoder(shareKeys: false).encode(reply)
        } catch {
            logger.error("cannot encode a GSB reply", metadata: ["error": "\(error)"])
            return try? FlexBuffersEncoder(shareKeys: false).encode(
                request.reply(error: .map([("InternalError", .string("reply not encodable: \(error)"))]))
            )
        }
    }
}
