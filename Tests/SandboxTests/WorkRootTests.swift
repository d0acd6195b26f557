import Foundation
import Sandbox
import Testing

/// The tests' parent folder, searchable by others whoever created it first: creating a 0700 folder
/// with its intermediates gives the intermediates 0700 too, which would fail every other test here.
private func testFolder() throws -> String {
    let folder = "/tmp/golem-bridge-test"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder)
    return folder
}

@Suite struct WorkRootTests {
    @Test func workRootBelowAPrivateFolderIsRefusedWithTheFolderNamed() async throws {
        try #require(geteuid() == 0, "the sandbox switches to an unprivileged uid only when run as root")
        let privateFolder = try testFolder() + "/private-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: privateFolder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: privateFolder) }
        let error = try await #require(throws: SandboxError.self) { try await Sandbox().prepareWorkRoot(privateFolder + "/work") }
        #expect(error.description.contains("\(privateFolder) has no search permission"))
    }

    @Test func reachableWorkRootIsCreatedAndItsPathStandardized() async throws {
        let parent = try testFolder() + "/open-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let path = try await Sandbox().prepareWorkRoot(parent + "/./a/../work")
        #expect(path == parent + "/work")
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue)
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o755)
    }

    @Test func aFileInTheWayIsAnErrorNamingTheWorkRoot() async throws {
        let file = try testFolder() + "/file-\(UUID().uuidString)"
        try Data().write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let error = try await #require(throws: SandboxError.self) { try await Sandbox().prepareWorkRoot(file + "/work") }
        #expect(error.description.contains("cannot create the work root \(file)/work"))
    }
}
