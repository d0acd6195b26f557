import GFTP
import GolemJobs
import Logging
import Yagna

/// `uploadData`/`downloadData` over GFTP, as golem-js moves files (docs/notes/yagna-requestor-api.md §6):
/// the bridge serves the file at `gftp://<its node id>/<uuid>` on yagna's GSB API for the time of
/// one batch whose ExeScript `transfer` reads or writes it on the provider.
///
/// Verification: a download is taken only when the SHA3-256 the provider sends with `UploadFinished`
/// matches the bytes that arrived (``GFTPReceipt``); an upload is measured after the transfer in the
/// same batch (size and SHA-256 by `sha256sum`, ``VerifiedTransfer/digestCommand(of:)``), since an
/// exe-unit reading a GFTP file checks nothing. A mismatch is moved again, up to
/// ``VerifiedTransfer/attempts`` times, then fails the step as `provider_failed` naming both sides.
extension GolemBackend {
    /// The GFTP service on this requestor's node (its id asked of yagna once).
    func gftpService(logger: Logger) async throws -> GFTPService {
        let known = state.withLock { $0.nodeId }
        let nodeId: String
        if let known {
            nodeId = known
        } else {
            nodeId = try await client.identity()
            state.withLock { $0.nodeId = nodeId }
        }
        return GFTPService(client: client, nodeId: nodeId, logger: logger)
    }

    func uploadByGFTP(_ bytes: [UInt8], to path: String, label: String, index: Int, on lease: Lease, logger: Logger) async throws {
        let service = try await serviceOrFail(label: label, index: index, logger: logger)
        let sent = FileDigest(of: bytes)
        let provider = lease.provider
        for attempt in 1...VerifiedTransfer.attempts {
            let results = try await service.publishing(bytes) { url in
                try await self.runBatch(
                    [.transfer(from: url.description, to: "container:" + path), VerifiedTransfer.digestCommand(of: path)],
                    on: lease.activityId, timeout: nil, provider: provider
                )
            }
            let got: String
            if let failed = results.first(where: \.isError) {
                // The transfer itself failed (results[0]): the bytes did not arrive, which is worth
                // another try; a failed measurement is the image's (no sh or sha256sum).
                guard failed.index == 0 else {
                    throw JobError(.commandFailed, "\(label): cannot measure \(path) on provider \(provider.name): \(Self.cause(of: failed))", step: index)
                }
                got = "a failed transfer: \(Self.cause(of: failed))"
            } else if results.count < 2 {
                throw JobError(.providerFailed, "\(label): provider \(provider.name) returned \(results.count) of 2 results", step: index)
            } else {
                let written = VerifiedTransfer.parseDigest(results[1].stdout?.string)
                if written == sent { return }
                got = written?.description ?? "no size and hash (\(results[1].stdout?.string.prefix(80) ?? ""))"
            }
            guard attempt < VerifiedTransfer.attempts else {
                throw JobError(.providerFailed, "\(label): \(path) on provider \(provider.name) is not what was sent after \(attempt) GFTP attempts: expected \(sent), got \(got)", step: index)
            }
            logger.info("a GFTP upload arrived altered; sending it again", metadata: ["path": "\(path)", "expected": "\(sent)", "got": "\(got)"])
        }
    }

    func downloadByGFTP(_ path: String, label: String, index: Int, on lease: Lease, logger: Logger) async throws -> [UInt8] {
        let service = try await serviceOrFail(label: label, index: index, logger: logger)
        let provider = lease.provider
        for attempt in 1...VerifiedTransfer.attempts {
            let (results, receipt) = try await service.receiving(limit: configuration.transferLimit) { url in
                try await self.runBatch([.transfer(from: "container:" + path, to: url.description)], on: lease.activityId, timeout: nil, provider: provider)
            }
            let got: String
            switch receipt.outcome {
            case .complete(let bytes):
                return bytes
            case .failed(let cause):
                got = cause
            case .receiving:
                // Nothing was sent at all: the provider could not read the file (missing, not a
                // regular file, above its limit). Not a transfer fault; the job's own.
                if let failed = results.first(where: \.isError), receipt.bytes.isEmpty {
                    throw JobError(.commandFailed, "\(label): cannot read \(path): \(Self.cause(of: failed))", step: index)
                }
                got = "the transfer ended after \(receipt.bytes.count) bytes without UploadFinished"
                    + (results.first(where: \.isError).map { " (\(Self.cause(of: $0)))" } ?? "")
            }
            guard attempt < VerifiedTransfer.attempts else {
                throw JobError(.providerFailed, "\(label): \(path) from provider \(provider.name) did not arrive intact after \(attempt) GFTP attempts: \(got)", step: index)
            }
            logger.info("a GFTP download arrived altered; receiving it again", metadata: ["path": "\(path)", "got": "\(got)"])
        }
        preconditionFailure("the loop returns or throws")
    }

    private func serviceOrFail(label: String, index: Int, logger: Logger) async throws -> GFTPService {
        do { return try await gftpService(logger: logger) } catch {
            throw JobError(.providerFailed, "\(label): this requestor's node id is unknown (GET /me): \(error)", step: index)
        }
    }
}
