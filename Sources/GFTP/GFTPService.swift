import FlexBuffers
import Foundation
import Logging
import Synchronization
import Yagna

/// The requestor's side of GFTP, as golem-js's WebSocket storage does it (`src/shared/storage/ws.ts`):
/// binds `/public/gftp/<uuid>` on its node through yagna's GSB API, serves the calls on the
/// WebSocket for as long as `body` runs, then unbinds. The provider's exe-unit reaches the file at
/// `gftp://<requestor node id>/<uuid>`.
public struct GFTPService: Sendable {
    public let client: YagnaClient
    /// This node's id (`GET /me`).
    public let nodeId: String
    public let logger: Logger
    /// Largest WebSocket frame: one chunk of ``GFTPMessage/chunkSize`` and its envelope.
    let maxFrameSize = 1 << 20

    public init(client: YagnaClient, nodeId: String, logger: Logger) {
        self.client = client
        self.nodeId = nodeId
        self.logger = logger
    }

    /// Publishes `bytes` while `body` runs with their URL.
    public func publishing<T: Sendable>(_ bytes: [UInt8], _ body: @Sendable (GFTPURL) async throws -> T) async throws -> T {
        let file = ServedFile(.published(bytes))
        return try await serving(file, components: GFTPMessage.publishComponents, body)
    }

    /// Receives a file while `body` runs with its URL; returns `body`'s result and what arrived.
    public func receiving<T: Sendable>(limit: Int, _ body: @Sendable (GFTPURL) async throws -> T) async throws -> (T, GFTPReceipt) {
        let file = ServedFile(.receiving(GFTPReceipt(limit: limit)))
        let result = try await serving(file, components: GFTPMessage.receiveComponents, body)
        guard case .receiving(let receipt) = file.state.withLock({ $0 }) else { preconditionFailure("a receiving file stays receiving") }
        return (result, receipt)
    }

    private func serving<T: Sendable>(
        _ file: ServedFile, components: [String], _ body: @Sendable (GFTPURL) async throws -> T
    ) async throws -> T {
        let url = GFTPURL(nodeId: nodeId.lowercased(), fileId: UUID().uuidString.lowercased())
        let servicesId = try await client.bindServices(on: url.serviceAddress, components: components)
        let configuration = client.configuration
        let (logger, maxFrameSize) = (self.logger, self.maxFrameSize)
        do {
            let result = try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    do {
                        try await GSBWebSocket.serve(
                            apiURL: configuration.apiURL, appKey: configuration.appKey, servicesId: servicesId,
                            maxFrameSize: maxFrameSize, logger: logger
                        ) { request in
                            switch file.state.withLock({ $0.answer(request.component, request.payload) }) {
                            case .success(let value): request.reply(value)
                            case .failure(let error): request.reply(error: error.flexValue)
                            }
                        }
                    } catch {
                        if !Task.isCancelled { logger.warning("GFTP WebSocket failed", metadata: ["gftp.url": "\(url)", "error": "\(error)"]) }
                    }
                }
                defer { group.cancelAll() }
                return try await body(url)
            }
            try? await client.unbindServices(servicesId)
            return result
        } catch {
            try? await client.unbindServices(servicesId)
            throw error
        }
    }
}

/// The file one service answers for, shared by the WebSocket's request tasks.
private final class ServedFile: Sendable {
    let state: Mutex<GFTPServedFile>
    init(_ file: GFTPServedFile) { state = Mutex(file) }
}
