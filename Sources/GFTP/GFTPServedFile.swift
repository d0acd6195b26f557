import FlexBuffers

/// What a requestor's GFTP service answers, pure: a published file's `GetMetadata` and `GetChunk`,
/// or a received file's `UploadChunk`s and `UploadFinished`, whose hash must be the SHA3-256 of
/// what arrived (else `IntegrityError`, as yagna's `gftp` answers). ``GFTPService`` does the I/O.
public enum GFTPServedFile: Sendable {
    case published([UInt8])
    case receiving(GFTPReceipt)

    /// The reply's value, or the error yagna hands the caller as `Err` (the GSB API wraps both).
    public mutating func answer(_ component: String, _ payload: FlexValue) -> Result<FlexValue, GFTPError> {
        switch self {
        case .published(let bytes):
            switch component {
            case "GetMetadata":
                return .success(GFTPMessage.metadata(fileSize: bytes.count))
            case "GetChunk":
                guard let offset = payload["offset"]?.uintValue, let size = payload["size"]?.uintValue,
                      offset <= UInt64(bytes.count) else {
                    return .failure(.readError("GetChunk beyond the file's \(bytes.count) bytes or without offset and size"))
                }
                let start = Int(offset)
                let end = start + Int(min(size, UInt64(bytes.count - start)))
                return .success(GFTPMessage.chunk(offset: start, content: Array(bytes[start..<end])))
            default:
                return .failure(.internalError("\(component) is not served for a published file"))
            }
        case .receiving(var receipt):
            // Let go of the enum's reference first: else each chunk copies the whole file (64 MiB
            // arrived in 62 s with the copy, in 9.4 s without it; debug build, TransferGFTPTests).
            self = .published([])
            let reply = receipt.answer(component, payload)
            self = .receiving(receipt)
            return reply
        }
    }
}

/// A file arriving by `UploadChunk`s, bounded by `limit`, and checked at `UploadFinished`.
public struct GFTPReceipt: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        case receiving
        /// The hash the uploader sent matched the bytes.
        case complete([UInt8])
        /// Why the file cannot be taken (named in the step's error when retries run out).
        case failed(String)
    }

    public let limit: Int
    public private(set) var bytes: [UInt8] = []
    public private(set) var outcome: Outcome = .receiving

    public init(limit: Int) { self.limit = limit }

    mutating func answer(_ component: String, _ payload: FlexValue) -> Result<FlexValue, GFTPError> {
        switch component {
        case "UploadChunk":
            guard outcome == .receiving else { return .failure(.writeError("the upload has finished")) }
            let chunk: (offset: Int, content: [UInt8])
            do { chunk = try GFTPMessage.chunkContent(payload["chunk"] ?? .null) } catch {
                return .failure(error)
            }
            let end = chunk.offset + chunk.content.count
            guard end <= limit else {
                outcome = .failed("the file is larger than the transfer limit of \(limit) bytes")
                return .failure(.writeError("larger than the transfer limit of \(limit) bytes"))
            }
            if bytes.count < end { bytes += [UInt8](repeating: 0, count: end - bytes.count) }
            bytes.replaceSubrange(chunk.offset..<end, with: chunk.content)
            return .success(.null)
        case "UploadFinished":
            guard outcome == .receiving else { return .failure(.writeError("the upload has finished")) }
            let got = GFTPDigest.sha3(bytes)
            guard let sent = payload["hash"]?.stringValue else {
                outcome = .failed("the provider sent no hash with UploadFinished")
                return .failure(.integrityError)
            }
            guard sent.lowercased() == got else {
                outcome = .failed("hash mismatch: the provider sent sha3-256 \(sent), the \(bytes.count) bytes that arrived hash to \(got)")
                return .failure(.integrityError)
            }
            outcome = .complete(bytes)
            return .success(.null)
        default:
            return .failure(.internalError("\(component) is not served for a received file"))
        }
    }
}
