import Foundation
import GFTP
import GolemLocalTestSupport
import Logging
import Sandbox
import Testing
import Yagna
@testable import LocalProvider

/// The agent's `transfer` with `gftp://` URLs, against the real yagna nodes of the local network:
/// the requestor serves the file on its GSB API (``GFTPService``, as the Golem backend does), the
/// exe-unit's ``Transfer`` calls it over the provider node's bus.
@Suite(.serialized, .enabled(if: GolemLocal.providerCount > 0)) struct TransferGFTPTests {
    let logger = Logger(label: "transfer-gftp-test")

    func withTransfer<T>(faults: Set<InjectedFault> = [], _ body: (Transfer, GFTPService) async throws -> T) async throws -> T {
        let net = try GolemLocal.load()
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("gftp-test-\(UUID().uuidString)").path
        try await Sandbox().prepareWorkDirectory(work)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let transfer = Transfer(
            workDirectory: work, sandbox: Sandbox(), http: .shared, limit: 128 << 20,
            gsbURL: net.values["GOLEM_LOCAL_PROVIDER_GSB_URL"] ?? "", faults: faults, logger: logger
        )
        let service = GFTPService(client: YagnaClient(configuration: net.requestor, logger: logger), nodeId: net.requestorId, logger: logger)
        return try await body(transfer, service)
    }

    static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { raw in
            for index in stride(from: 0, to: count - count % 8, by: 8) {
                raw.storeBytes(of: generator.next() as UInt64, toByteOffset: index, as: UInt64.self)
            }
        }
        return bytes
    }

    /// BENCHMARKS.md, *GFTP transfers*: the time of each direction is printed.
    @Test func a64MiBFileRoundTripsIntact() async throws {
        let bytes = Self.randomBytes(64 << 20)
        try await withTransfer { transfer, service in
            let clock = ContinuousClock()
            let start = clock.now
            try await service.publishing(bytes) { url in
                try await transfer.copy(from: url.description, to: "container:/golem/work/in/big.bin")
            }
            let uploaded = clock.now
            let (_, receipt) = try await service.receiving(limit: 128 << 20) { url in
                try await transfer.copy(from: "container:/golem/work/in/big.bin", to: url.description)
            }
            let downloaded = clock.now
            guard case .complete(let back) = receipt.outcome else {
                Issue.record("the download did not complete: \(receipt.outcome)")
                return
            }
            #expect(back.count == 64 << 20)
            #expect(back == bytes)
            print("BENCH GFTP 64 MiB: requestor→provider \(uploaded - start), provider→requestor \(downloaded - uploaded), round trip \(downloaded - start)")
        }
    }

    @Test func aTransferFromAFileNobodyServesFailsNamingIt() async throws {
        try await withTransfer { transfer, _ in
            let net = try GolemLocal.load()
            let error = await #expect(throws: (any Error).self) {
                try await transfer.copy(from: "gftp://\(net.requestorId)/no-such-file", to: "container:/golem/work/x")
            }
            #expect("\(error!)".contains("no-such-file"))
        }
    }

    @Test func aDroppedChunkIsRefusedByTheRequestorsHashCheck() async throws {
        try await withTransfer(faults: [.gftpDropLastChunk]) { transfer, service in
            try await service.publishing(Self.randomBytes(100_000)) { url in
                try await transfer.copy(from: url.description, to: "container:/golem/work/f")
            }
            let (_, receipt) = try await service.receiving(limit: 1 << 20) { url in
                await #expect(throws: (any Error).self) {
                    try await transfer.copy(from: "container:/golem/work/f", to: url.description)
                }
            }
            guard case .failed(let cause) = receipt.outcome else {
                Issue.record("expected a refused file, got \(receipt.outcome)")
                return
            }
            #expect(cause.contains("hash mismatch"))
        }
    }
}
