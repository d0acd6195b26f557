import FlexBuffers

/// GFTP's four requests and their replies (yagna `core/model/src/gftp.rs`), in the FlexBuffers
/// layout serde gives them on the bus: structs as maps with camelCase keys, `GetMetadata` (a unit
/// struct) as null, a chunk's `content` as a blob, and every reply as `Result`: `{"Ok": value}` or
/// `{"Err": {"ReadError"|"WriteError"|"IntegrityError"|"InternalError": message}}`. Pure.
public enum GFTPMessage {
    /// The component names (the last segment of the address; the GSB API's `components`).
    public static let publishComponents = ["GetMetadata", "GetChunk"]
    public static let receiveComponents = ["UploadChunk", "UploadFinished"]

    /// Bytes per chunk: yagna's `DEFAULT_CHUNK_SIZE` (40 KiB), which its exe-unit reads and writes in.
    public static let chunkSize = 40 << 10

    public static let getMetadata = FlexValue.null

    public static func getChunk(offset: Int, size: Int) -> FlexValue {
        .map([("offset", .uint(UInt64(offset))), ("size", .uint(UInt64(size)))])
    }

    public static func uploadChunk(offset: Int, content: [UInt8]) -> FlexValue {
        .map([("chunk", .map([("offset", .uint(UInt64(offset))), ("content", .blob(content))]))])
    }

    /// `hash`: SHA3-256 of the whole file, lowercase hex (the exe-unit sends `format!("{:x}", digest)`).
    public static func uploadFinished(hash: String?) -> FlexValue {
        .map([("hash", hash.map(FlexValue.string) ?? .null)])
    }

    /// `GftpMetadata`.
    public static func metadata(fileSize: Int) -> FlexValue {
        .map([("fileSize", .uint(UInt64(fileSize)))])
    }

    /// `GftpChunk`.
    public static func chunk(offset: Int, content: [UInt8]) -> FlexValue {
        .map([("offset", .uint(UInt64(offset))), ("content", .blob(content))])
    }

    /// The value inside `{"Ok": value}`, or the error inside `{"Err": ...}`.
    public static func result(_ reply: FlexValue) throws(GFTPError) -> FlexValue {
        if let value = reply["Ok"] { return value }
        if let error = reply["Err"] { throw GFTPError(error) }
        throw .internalError("a reply that is neither Ok nor Err: \(reply)")
    }

    /// A `GftpMetadata`'s file size.
    public static func fileSize(_ value: FlexValue) throws(GFTPError) -> Int {
        guard let size = value["fileSize"]?.uintValue, size <= UInt64(Int.max) else {
            throw .internalError("metadata without a fileSize: \(value)")
        }
        return Int(size)
    }

    /// A `GftpChunk`'s offset and bytes.
    public static func chunkContent(_ value: FlexValue) throws(GFTPError) -> (offset: Int, content: [UInt8]) {
        guard let offset = value["offset"]?.uintValue, offset <= UInt64(Int.max), let content = value["content"]?.bytesValue else {
            throw .internalError("a chunk without offset or content")
        }
        return (Int(offset), content)
    }
}

/// `ya_core_model::gftp::Error`, what a GFTP service answers instead of a value.
public enum GFTPError: Error, Equatable, Sendable, CustomStringConvertible {
    case readError(String)
    case writeError(String)
    /// The file's hash is not the one the uploader sent.
    case integrityError
    case internalError(String)

    init(_ value: FlexValue) {
        if let message = value["ReadError"]?.stringValue { self = .readError(message) }
        else if let message = value["WriteError"]?.stringValue { self = .writeError(message) }
        else if value.stringValue == "IntegrityError" || value["IntegrityError"] != nil { self = .integrityError }
        else if let message = value["InternalError"]?.stringValue { self = .internalError(message) }
        else { self = .internalError("\(value)") }
    }

    /// Serde's layout: a newtype variant is `{Variant: value}`, a unit variant its name.
    public var flexValue: FlexValue {
        switch self {
        case .readError(let message): .map([("ReadError", .string(message))])
        case .writeError(let message): .map([("WriteError", .string(message))])
        case .integrityError: .string("IntegrityError")
        case .internalError(let message): .map([("InternalError", .string(message))])
        }
    }

    public var description: String {
        switch self {
        case .readError(let message): "Can't read from file. \(message)"
        case .writeError(let message): "Can't write to file. \(message)"
        case .integrityError: "File hash verification failed."
        case .internalError(let message): "Internal error: \(message)."
        }
    }
}
