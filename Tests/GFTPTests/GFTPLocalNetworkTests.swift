import FlexBuffers
import GolemLocalTestSupport
import Logging
import Testing
import Yagna
@testable import GFTP

/// GFTP between the two real yagna nodes of the local network: the requestor serves a file on its
/// GSB WebSocket API; a caller on the provider node's bus (as the exe-unit is) reads or writes it.
@Suite(.serialized) struct GFTPLocalNetworkTests {
    let logger = Logger(label: "gftp-test")

    func setUp() throws -> (GFTPService, String) {
        let net = try GolemLocal.load()
        let service = GFTPService(client: YagnaClient(configuration: net.requestor, logger: logger), nodeId: net.requestorId, logger: logger)
        return (service, net.values["GOLEM_LOCAL_PROVIDER_GSB_URL"] ?? "")
    }

    @Test func aPublishedFileIsReadWholeFromTheProvidersBus() async throws {
        let (service, gsb) = try setUp()
        let bytes = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
        let got = try await service.publishing(bytes) { url in
            try await GSBBus.withConnection(to: gsb, logger: logger) { bus in
                try await GFTPCaller(bus: bus).download(url, limit: 1 << 20)
            }
        }
        #expect(got.count == bytes.count)
        #expect(got == bytes)
    }

    /// Two callers on the provider node's bus, each on its own connection, read two files at once: each
    /// gets its own file. yagna's net matches a remote call's reply by request id alone, so ids that
    /// every connection counted from 1 swapped chunks between them (seen in CI: 36,160 bytes of a
    /// 200,000-byte file in a chunk of a 64 MiB one; here a caller whose reply went to the other waits
    /// for good, hence the time limit).
    @Test(.timeLimit(.minutes(1))) func twoConnectionsReadingTwoFilesAtOnceEachGetTheirOwn() async throws {
        let (service, gsb) = try setUp()
        let first = (0..<600_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let second = (0..<600_000).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 1) }
        let logger = self.logger
        let (a, b) = try await service.publishing(first) { one in
            try await service.publishing(second) { two in
                async let a = GSBBus.withConnection(to: gsb, logger: logger) { bus in try await GFTPCaller(bus: bus).download(one, limit: 1 << 20) }
                async let b = GSBBus.withConnection(to: gsb, logger: logger) { bus in try await GFTPCaller(bus: bus).download(two, limit: 1 << 20) }
                return try await (a, b)
            }
        }
        #expect(a == first, "the first file came back altered")
        #expect(b == second, "the second file came back altered")
    }

    @Test func aFileLargerThanTheLimitIsRefusedBeforeItsChunks() async throws {
        let (service, gsb) = try setUp()
        let error = await #expect(throws: GFTPTransferError.self) {
            try await service.publishing([UInt8](repeating: 1, count: 5000)) { url in
                try await GSBBus.withConnection(to: gsb, logger: logger) { bus in
                    try await GFTPCaller(bus: bus).download(url, limit: 4999)
                }
            }
        }
        #expect(error?.description.contains("above the transfer limit of 4999") == true)
    }

    @Test func anUploadArrivesWholeAndVerified() async throws {
        let (service, gsb) = try setUp()
        let bytes = (0..<123_457).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let (_, receipt) = try await service.receiving(limit: 1 << 20) { url in
            try await GSBBus.withConnection(to: gsb, logger: logger) { bus in
                try await GFTPCaller(bus: bus).upload(bytes, to: url)
            }
        }
        #expect(receipt.outcome == .complete(bytes))
    }

    /// An upload whose last chunk never arrives: the receiver's hash check refuses it, the caller
    /// gets yagna's IntegrityError, and the receipt names the cause.
    @Test func anUploadMissingAChunkIsRefusedWithIntegrityError() async throws {
        let (service, gsb) = try setUp()
        let bytes = [UInt8](repeating: 3, count: GFTPMessage.chunkSize + 10)
        let (thrown, receipt) = try await service.receiving(limit: 1 << 20) { url -> GFTPError? in
            try await GSBBus.withConnection(to: gsb, logger: logger) { bus -> GFTPError? in
                let encoder = FlexBuffersEncoder(shareKeys: false)
                _ = try await bus.call(url.callAddress("UploadChunk"), data: encoder.encode(GFTPMessage.uploadChunk(offset: 0, content: Array(bytes[..<GFTPMessage.chunkSize]))))
                let reply = try await bus.call(url.callAddress("UploadFinished"), data: encoder.encode(GFTPMessage.uploadFinished(hash: GFTPDigest.sha3(bytes))))
                do {
                    _ = try GFTPMessage.result(try FlexBuffersDecoder().decode(reply))
                    return nil
                } catch let error as GFTPError {
                    return error
                }
            }
        }
        #expect(thrown == .integrityError)
        guard case .failed(let cause) = receipt.outcome else {
            Issue.record("expected a failed receipt, got \(receipt.outcome)")
            return
        }
        #expect(cause.contains("hash mismatch"))
    }

    @Test func aFileNobodyServesIsAnError() async throws {
        let net = try GolemLocal.load()
        let url = GFTPURL(nodeId: net.requestorId, fileId: "no-such-file")
        await #expect(throws: (any Error).self) {
            try await GSBBus.withConnection(to: net.values["GOLEM_LOCAL_PROVIDER_GSB_URL"] ?? "", logger: logger) { bus in
                try await GFTPCaller(bus: bus).download(url, limit: 100)
            }
        }
    }

    /// A file bound but never served (yagna holds the call until a WebSocket opens): a cancelled
    /// caller stops waiting instead of holding its transfer open.
    @Test func aCancelledCallStopsWaiting() async throws {
        let net = try GolemLocal.load()
        let client = YagnaClient(configuration: net.requestor, logger: logger)
        let url = GFTPURL(nodeId: net.requestorId, fileId: "held-\(UInt32.random(in: 0...UInt32.max))")
        let servicesId = try await client.bindServices(on: url.serviceAddress, components: GFTPMessage.publishComponents)
        defer { Task { try? await client.unbindServices(servicesId) } }
        let gsb = net.values["GOLEM_LOCAL_PROVIDER_GSB_URL"] ?? ""
        try await GSBBus.withConnection(to: gsb, logger: logger) { bus in
            let call = Task { try await bus.call(url.callAddress("GetMetadata"), data: try FlexBuffersEncoder(shareKeys: false).encode(GFTPMessage.getMetadata)) }
            try await Task.sleep(for: .milliseconds(200))
            call.cancel()
            await #expect(throws: CancellationError.self) { try await call.value }
        }
    }
}
