import Foundation
import GolemJobs
import Testing
import Yagna
@testable import GolemBackend

@Suite struct VerifiedTransferTests {
    /// `printf 'hello\n' | sha256sum`
    static let helloHash = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"

    @Test func theBridgesDigestIsSizeAndSha256() {
        #expect(FileDigest(of: Array("hello\n".utf8)) == FileDigest(size: 6, sha256: Self.helloHash))
        #expect(FileDigest(of: []).sha256 == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    /// The provider measures with `wc -c` and `sha256sum` (busybox or GNU), one line `SIZE HASH`.
    @Test func theProvidersDigestIsMeasuredByTheShellAndParsed() throws {
        let command = VerifiedTransfer.digestCommand(of: "/golem/work/out")
        #expect(try ExeScriptCommand.text([command]).contains(#"sha256sum < \"$1\""#))
        guard case .run(let entry, let args, let capture) = command else { Issue.record("not a run"); return }
        #expect(entry == "/bin/sh" && args.last == "/golem/work/out" && capture == .whole)

        #expect(VerifiedTransfer.parseDigest("6 \(Self.helloHash)\n") == FileDigest(size: 6, sha256: Self.helloHash))
        #expect(VerifiedTransfer.parseDigest("      6 \(Self.helloHash.uppercased())") == FileDigest(size: 6, sha256: Self.helloHash))
        #expect(VerifiedTransfer.parseDigest("") == nil)
        #expect(VerifiedTransfer.parseDigest("6") == nil)
        #expect(VerifiedTransfer.parseDigest("six \(Self.helloHash)") == nil)
        #expect(VerifiedTransfer.parseDigest("6 \(Self.helloHash.dropLast())") == nil, "a hash that lost its tail")
        #expect(VerifiedTransfer.parseDigest("6 \(Self.helloHash) -") == nil)
    }

    /// A file is read in ranges of at most one chunk, in order and without gaps; an empty file in none.
    @Test func aDownloadIsPlannedInBoundedRanges() {
        #expect(VerifiedTransfer.ranges(size: 0).isEmpty)
        #expect(VerifiedTransfer.ranges(size: 5, chunk: 5) == [0..<5])
        let size = 2 * VerifiedTransfer.downloadChunk + 1
        let ranges = VerifiedTransfer.ranges(size: size)
        #expect(ranges == [0..<VerifiedTransfer.downloadChunk, VerifiedTransfer.downloadChunk..<2 * VerifiedTransfer.downloadChunk, 2 * VerifiedTransfer.downloadChunk..<size])
        // One range's base64 stays well inside the client's 16 MiB response limit.
        #expect((VerifiedTransfer.downloadChunk + 2) / 3 * 4 < (16 << 20) / 2)
    }

    /// `tail -c +N` counts from 1: the range 4..<10 is read from byte 5, 6 bytes long.
    @Test func aRangeIsReadWithTailAndHead() {
        let command = VerifiedTransfer.readCommand(of: "/golem/work/big", range: 4..<10)
        guard case .run(let entry, let args, _) = command else { Issue.record("not a run"); return }
        #expect(entry == "/bin/sh")
        #expect(args[1] == #"tail -c +"$2" -- "$1" | head -c "$3" | base64 | tr -d '\n'"#)
        #expect(Array(args.dropFirst(2)) == ["sh", "/golem/work/big", "5", "6"])
    }

    /// What yagna issues #2478/#2879/#3450 do to a captured stdout: its tail is gone, and what is left
    /// still decodes. The range's length catches it.
    @Test func aRangeWhoseStdoutLostItsTailIsShort() {
        let bytes = (0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let encoded = Data(bytes).base64EncodedString()
        #expect(VerifiedTransfer.checkChunk(encoded, range: 0..<3000) == .bytes(bytes))
        // Cut at a multiple of 4 characters: valid base64, 1500 bytes.
        #expect(VerifiedTransfer.checkChunk(String(encoded.prefix(2000)), range: 0..<3000) == .short(got: 1500))
        #expect(VerifiedTransfer.checkChunk(String(encoded.prefix(2001)), range: 0..<3000) == .notBase64(characters: 2001))
        #expect(VerifiedTransfer.checkChunk("", range: 0..<3000) == .short(got: 0))
    }

    /// A file that changed, or a byte flipped in transit, keeps its length: the whole file's hash catches it.
    @Test func aCorruptedDownloadOfTheRightLengthFailsTheHash() {
        var bytes = [UInt8](repeating: 65, count: 10_000)
        let expected = FileDigest(of: bytes)
        bytes[9_999] = 66
        let got = FileDigest(of: bytes)
        #expect(got.size == expected.size && got != expected)
    }

    /// An upload ends with the provider's measurement of what it wrote.
    @Test func anUploadIsFollowedByItsDigest() {
        let commands = StepScript.upload([1, 2, 3], to: "/golem/work/in") + [VerifiedTransfer.digestCommand(of: "/golem/work/in")]
        #expect(commands.count == 2)
        #expect(commands.last == VerifiedTransfer.digestCommand(of: "/golem/work/in"))
        #expect(StepScript.commands(for: .downloadData(from: "/golem/work/out")) == [VerifiedTransfer.digestCommand(of: "/golem/work/out")])
    }
}
