import Crypto
import Foundation
import Yagna

/// A file's size and SHA-256, as the provider reports it after `wc -c` and `sha256sum`, or as the
/// bridge computes it over the bytes it sent or received.
public struct FileDigest: Equatable, Sendable, CustomStringConvertible {
    public let size: Int
    /// Lowercase hex, 64 characters.
    public let sha256: String

    public init(size: Int, sha256: String) {
        self.size = size
        self.sha256 = sha256
    }

    public init(of bytes: [UInt8]) {
        self.init(size: bytes.count, sha256: SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined())
    }

    public var description: String { "\(size) bytes sha256 \(sha256)" }
}

/// Transfers over captured stdout, verified: on real vm providers a command's captured stdout may lose
/// its tail (yagna issues #2478, #2879, #3450), and a short base64 text still decodes. So every file is
/// measured on the provider (size and SHA-256, with busybox's `wc`, `sha256sum`), downloads are read in
/// ranges of ``downloadChunk`` bytes whose length is checked on arrival, and both directions compare the
/// whole file's digest. Pure: GolemBackend+Execution runs the commands.
public enum VerifiedTransfer {
    /// File bytes read per download command (one command per batch): 32 KiB is ≈ 43 KiB of base64.
    /// The provider's reply to `GetExecBatchResults` travels as one GSB message, and on the local
    /// network (real yagna, our agent) a reply with 64,000 characters of stdout arrived while one with
    /// 200,000 failed the agent's GSB link (2026-12-03, 48,000 and 150,000 bytes read as base64).
    public static let downloadChunk = 32 << 10

    /// Reads of one range, or writes of one upload, before the step fails.
    public static let attempts = 3

    /// Prints `SIZE SHA256` of the file; fails (non-zero exit, message on stderr) if it cannot be read.
    public static func digestCommand(of path: String) -> ExeScriptCommand {
        .run(entryPoint: "/bin/sh",
             args: ["-c", #"s=$(wc -c < "$1") && h=$(sha256sum < "$1") && echo "$s ${h%% *}""#, "sh", path],
             capture: .whole)
    }

    /// Reads the output of ``digestCommand(of:)``; nil unless it is a size and a 64-digit hex hash.
    public static func parseDigest(_ stdout: String?) -> FileDigest? {
        let fields = (stdout ?? "").split(whereSeparator: \.isWhitespace)
        guard fields.count == 2, let size = Int(fields[0]), size >= 0 else { return nil }
        let hash = fields[1].lowercased()
        guard hash.count == 64, hash.allSatisfy(\.isHexDigit) else { return nil }
        return FileDigest(size: size, sha256: hash)
    }

    /// The byte ranges a file of `size` bytes is read in, in order; none for an empty file.
    public static func ranges(size: Int, chunk: Int = downloadChunk) -> [Range<Int>] {
        stride(from: 0, to: size, by: chunk).map { $0..<min($0 + chunk, size) }
    }

    /// Prints one range of the file as base64 on one line. `tail -c +N` counts from 1.
    public static func readCommand(of path: String, range: Range<Int>) -> ExeScriptCommand {
        .run(entryPoint: "/bin/sh",
             args: ["-c", #"tail -c +"$2" -- "$1" | head -c "$3" | base64 | tr -d '\n'"#, "sh", path,
                    String(range.lowerBound + 1), String(range.count)],
             capture: .whole)
    }

    /// What one range's stdout decoded to, checked against the range's length.
    public enum Chunk: Equatable, Sendable {
        case bytes([UInt8])
        /// Decoded, but not `range.count` bytes: the stdout lost its tail (or the file changed).
        case short(got: Int)
        case notBase64(characters: Int)
    }

    public static func checkChunk(_ stdout: String?, range: Range<Int>) -> Chunk {
        guard let bytes = StepScript.decodeDownload(stdout) else {
            return .notBase64(characters: (stdout ?? "").count)
        }
        return bytes.count == range.count ? .bytes(bytes) : .short(got: bytes.count)
    }
}
