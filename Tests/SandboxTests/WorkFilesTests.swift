import Foundation
import Sandbox
import Synchronization
import Testing

@Suite struct WorkFilesTests {
    /// A work root with a secret outside it and two symlinks the job could have planted.
    private func withRoot(_ body: (String, String) async throws -> Void) async throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("workfiles-\(UUID().uuidString)").path
        let root = base + "/work", outside = base + "/outside"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try Data("secret".utf8).write(to: URL(fileURLWithPath: outside + "/secret"))
        try FileManager.default.createSymbolicLink(atPath: root + "/dirlink", withDestinationPath: outside)
        try FileManager.default.createSymbolicLink(atPath: root + "/filelink", withDestinationPath: outside + "/secret")
        defer { try? FileManager.default.removeItem(atPath: base) }
        try await body(root, outside)
    }

    @Test func writesCreateDirectoriesAndReadBack() async throws {
        try await withRoot { root, _ in
            let files = WorkFiles(root: root)
            let handed = Mutex<[String]>([])
            try await files.write(Array("hello".utf8), to: ["a", "b", "c.txt"]) { path in handed.withLock { $0.append(path) } }
            #expect(try await files.read(["a", "b", "c.txt"], limit: 100) == Array("hello".utf8))
            #expect(handed.withLock { $0 } == [root + "/a", root + "/a/b", root + "/a/b/c.txt"])
        }
    }

    @Test func aSymlinkedDirectoryIsNeverFollowed() async throws {
        try await withRoot { root, outside in
            let files = WorkFiles(root: root)
            let read = await #expect(throws: WorkFileError.self) { try await files.read(["dirlink", "secret"], limit: 100) }
            #expect(read?.kind == .notADirectory)
            let write = await #expect(throws: WorkFileError.self) { try await files.write(Array("x".utf8), to: ["dirlink", "planted"]) }
            #expect(write?.kind == .notADirectory)
            #expect(!FileManager.default.fileExists(atPath: outside + "/planted"))
        }
    }

    @Test func aSymlinkedFileIsNeverFollowed() async throws {
        try await withRoot { root, outside in
            let files = WorkFiles(root: root)
            let read = await #expect(throws: WorkFileError.self) { try await files.read(["filelink"], limit: 100) }
            #expect(read?.kind == .notARegularFile)
            await #expect(throws: WorkFileError.self) { try await files.write(Array("x".utf8), to: ["filelink"]) }
            let secret = try String(contentsOfFile: outside + "/secret", encoding: .utf8)
            #expect(secret == "secret")
        }
    }

    @Test func readsAreBoundedAndErrorsNameTheJobsPath() async throws {
        try await withRoot { root, _ in
            let files = WorkFiles(root: root)
            try await files.write([UInt8](repeating: 1, count: 10), to: ["ten"])
            let tooLarge = await #expect(throws: WorkFileError.self) { try await files.read(["ten"], limit: 9) }
            #expect(tooLarge?.kind == .tooLarge(limit: 9))
            #expect(tooLarge?.description == "/golem/work/ten is larger than the limit of 9 bytes")
            let missing = await #expect(throws: WorkFileError.self) { try await files.read(["nope", "x"], limit: 9) }
            #expect(missing?.kind == .system(ENOENT))
            #expect(missing?.description.hasPrefix("/golem/work/nope") == true)
            #expect(missing?.description.contains(root) == false)
        }
    }
}
