import FlexBuffers
import Testing
@testable import GFTP

@Suite struct GFTPMessageTests {
    /// FIPS 202 / NIST example values for SHA3-256.
    @Test func sha3MatchesTheNISTVectors() {
        #expect(GFTPDigest.sha3([]) == "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a")
        #expect(GFTPDigest.sha3(Array("abc".utf8)) == "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532")
        #expect(GFTPDigest.sha3(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
            == "41c0dba2a9d6240849100376a8235e2c82e1b9998a999e21db32dd97496d3376")
    }

    @Test func requestsHaveSerdesLayout() {
        #expect(GFTPMessage.getChunk(offset: 40960, size: 40960) == .map([("offset", .uint(40960)), ("size", .uint(40960))]))
        #expect(GFTPMessage.uploadChunk(offset: 1, content: [9])["chunk"]?["content"] == .blob([9]))
        #expect(GFTPMessage.uploadFinished(hash: nil) == .map([("hash", .null)]))
    }

    @Test func resultsUnwrapOkAndNameTheError() throws {
        #expect(try GFTPMessage.result(.map([("Ok", .map([("fileSize", .uint(3))]))])) == .map([("fileSize", .uint(3))]))
        #expect(throws: GFTPError.readError("gone")) { try GFTPMessage.result(.map([("Err", .map([("ReadError", .string("gone"))]))])) }
        #expect(throws: GFTPError.integrityError) { try GFTPMessage.result(.map([("Err", .string("IntegrityError"))])) }
        #expect(throws: GFTPError.self) { try GFTPMessage.result(.null) }
    }

    @Test func urlsParseAndNameTheirAddresses() throws {
        let url = try #require(GFTPURL("gftp://0xCA8495EEF5F169B556EB64B31C921EF9E5437483/3f2a-b_1"))
        #expect(url.nodeId == "0xca8495eef5f169b556eb64b31c921ef9e5437483")
        #expect(url.serviceAddress == "/public/gftp/3f2a-b_1")
        #expect(url.callAddress("GetChunk") == "/transfer/net/0xca8495eef5f169b556eb64b31c921ef9e5437483/gftp/3f2a-b_1/GetChunk")
        #expect(GFTPURL("gftp://0xca8495eef5f169b556eb64b31c921ef9e5437483/../x") == nil)
        #expect(GFTPURL("gftp://node/x") == nil)
        #expect(GFTPURL("http://0xca8495eef5f169b556eb64b31c921ef9e5437483/x") == nil)
    }

    @Test func aPublishedFileAnswersMetadataAndChunksCutAtTheEnd() {
        var file = GFTPServedFile.published(Array(0..<100))
        #expect(file.answer("GetMetadata", .null) == .success(.map([("fileSize", .uint(100))])))
        #expect(file.answer("GetChunk", GFTPMessage.getChunk(offset: 90, size: 40)) == .success(GFTPMessage.chunk(offset: 90, content: Array(90..<100))))
        guard case .failure(.readError) = file.answer("GetChunk", GFTPMessage.getChunk(offset: 101, size: 1)) else {
            Issue.record("a chunk beyond the end must be a ReadError")
            return
        }
    }

    @Test func aReceivedFileIsCompleteOnlyWhenItsHashMatches() {
        let bytes: [UInt8] = Array(repeating: 7, count: 50) + Array(repeating: 8, count: 30)
        var file = GFTPServedFile.receiving(GFTPReceipt(limit: 1000))
        // Chunks may arrive out of order (the exe-unit sends several at once).
        #expect(file.answer("UploadChunk", GFTPMessage.uploadChunk(offset: 50, content: Array(bytes[50...]))) == .success(.null))
        #expect(file.answer("UploadChunk", GFTPMessage.uploadChunk(offset: 0, content: Array(bytes[..<50]))) == .success(.null))
        #expect(file.answer("UploadFinished", GFTPMessage.uploadFinished(hash: GFTPDigest.sha3(bytes))) == .success(.null))
        guard case .receiving(let receipt) = file else { return }
        #expect(receipt.outcome == .complete(bytes))
    }

    @Test func aReceivedFileMissingAChunkFailsItsHashCheck() {
        let bytes: [UInt8] = Array(repeating: 7, count: 80)
        var file = GFTPServedFile.receiving(GFTPReceipt(limit: 1000))
        _ = file.answer("UploadChunk", GFTPMessage.uploadChunk(offset: 0, content: Array(bytes[..<40])))
        #expect(file.answer("UploadFinished", GFTPMessage.uploadFinished(hash: GFTPDigest.sha3(bytes))) == .failure(.integrityError))
        guard case .receiving(let receipt) = file, case .failed(let cause) = receipt.outcome else {
            Issue.record("the receipt must have failed")
            return
        }
        #expect(cause.contains("hash mismatch") && cause.contains("40 bytes"))
    }

    @Test func aReceivedFileAboveTheLimitFails() {
        var file = GFTPServedFile.receiving(GFTPReceipt(limit: 10))
        guard case .failure(.writeError) = file.answer("UploadChunk", GFTPMessage.uploadChunk(offset: 8, content: [1, 2, 3])) else {
            Issue.record("a chunk past the limit must be a WriteError")
            return
        }
    }
}
