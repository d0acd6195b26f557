import Foundation
import LocalBackend
import Logging
import Testing

@Suite struct LocalBackendPreflightTests {
    let logger = Logger(label: "test")

    @Test func workRootBelowAPrivateFolderIsRefusedWithTheFolderNamed() async throws {
        try #require(geteuid() == 0, "the sandbox switches to an unprivileged uid only when run as root")
        let privateFolder = FileManager.default.temporaryDirectory.appendingPathComponent("private-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: privateFolder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: privateFolder) }
        let backend = LocalBackend(configuration: LocalBackendConfiguration(workRoot: privateFolder + "/work"), logger: logger)
        let error = try await #require(throws: LocalBackendError.self) { try await backend.preflight() }
        #expect(error.description.contains(privateFolder))
    }

    @Test func reachableWorkRootIsCreated() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("open-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let backend = LocalBackend(configuration: LocalBackendConfiguration(workRoot: root + "/work"), logger: logger)
        try await backend.preflight()
        #expect(FileManager.default.fileExists(atPath: root + "/work"))
    }
}
