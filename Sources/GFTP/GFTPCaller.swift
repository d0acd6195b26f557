import Crypto
import Foundation
import FlexBuffers

/// The exe-unit's side of GFTP (yagna `exe-unit/components/transfer/src/gftp.rs`): reads a file
/// another node publishes (`GetMetadata`, then `GetChunk`s of ``GFTPMessage/chunkSize``), or writes
/// one it receives (`UploadChunk`s, then `UploadFinished` with the SHA3-256 of the whole file, which
/// the receiver checks). Up to `concurrency` chunk calls are in flight, as in the exe-unit.
public struct GFTPCaller: Sendable {
    public let bus: GSBBus
    public let concurrency: Int

    public init(bus: GSBBus, concurrency: Int = 8) {
        self.bus = bus
        self.concurrency = max(1, concurrency)
    }

    /// The whole file at `url`; fails when it is larger than `limit` or a chunk is not what was asked.
    public func download(_ url: GFTPURL, limit: Int) async throws -> [UInt8] {
        let size = try GFTPMessage.fileSize(try await call(url, "GetMetadata", GFTPMessage.getMetadata))
        guard size <= limit else { throw GFTPTransferError("\(url) has \(size) bytes, above the transfer limit of \(limit)") }
        var bytes = [UInt8](repeating: 0, count: size)
        let offsets = Array(stride(from: 0, to: size, by: GFTPMessage.chunkSize))
        try await inBatches(offsets) { offset in
            let want = min(GFTPMessage.chunkSize, size - offset)
            let (at, content) = try GFTPMessage.chunkContent(try await call(url, "GetChunk", GFTPMessage.getChunk(offset: offset, size: GFTPMessage.chunkSize)))
            guard at == offset, content.count == want else {
                throw GFTPTransferError("\(url): asked for \(want) bytes at \(offset), got \(content.count) at \(at)")
            }
            return (offset, content)
        } collect: { offset, content in
            bytes.replaceSubrange(offset..<offset + content.count, with: content)
        }
        return bytes
    }

    /// Sends `bytes` to the receiver at `url`; its `IntegrityError` (the hash differs) is thrown.
    /// `withholdingLastChunk` leaves the last chunk out (the hash still covers it): a lost chunk on
    /// purpose, for tests of the receiver's check (the agent's `gftp-drop-last-chunk` fault).
    public func upload(_ bytes: [UInt8], to url: GFTPURL, withholdingLastChunk: Bool = false) async throws {
        var offsets = Array(stride(from: 0, to: bytes.count, by: GFTPMessage.chunkSize))
        if withholdingLastChunk { offsets.removeLast(min(1, offsets.count)) }
        try await inBatches(offsets) { offset in
            let content = Array(bytes[offset..<min(offset + GFTPMessage.chunkSize, bytes.count)])
            _ = try await call(url, "UploadChunk", GFTPMessage.uploadChunk(offset: offset, content: content))
            return (offset, [])
        } collect: { _, _ in }
        _ = try await call(url, "UploadFinished", GFTPMessage.uploadFinished(hash: GFTPDigest.sha3(bytes)))
    }

    private func call(_ url: GFTPURL, _ component: String, _ request: FlexValue) async throws -> FlexValue {
        let reply = try await bus.call(url.callAddress(component), data: try FlexBuffersEncoder(shareKeys: false).encode(request))
        guard !reply.isEmpty else { throw GFTPTransferError("\(url): nobody serves \(component) (an empty reply)") }
        return try GFTPMessage.result(try FlexBuffersDecoder().decode(reply))
    }

    /// Runs `work` over `offsets`, at most `concurrency` at a time, handing each result to `collect`.
    private func inBatches(
        _ offsets: [Int], _ work: @escaping @Sendable (Int) async throws -> (Int, [UInt8]),
        collect: (Int, [UInt8]) -> Void
    ) async throws {
        try await withThrowingTaskGroup(of: (Int, [UInt8]).self) { group in
            var next = offsets.makeIterator()
            for _ in 0..<concurrency {
                guard let offset = next.next() else { break }
                group.addTask { try await work(offset) }
            }
            while let (offset, content) = try await group.next() {
                collect(offset, content)
                if let offset = next.next() { group.addTask { try await work(offset) } }
            }
        }
    }
}

public struct GFTPTransferError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The hash GFTP's `UploadFinished` carries.
public enum GFTPDigest {
    /// SHA3-256 as lowercase hex (swift-crypto's `SHA3_256`, the FIPS 202 function yagna's `sha3` crate computes).
    public static func sha3(_ bytes: [UInt8]) -> String {
        SHA3_256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }
}
