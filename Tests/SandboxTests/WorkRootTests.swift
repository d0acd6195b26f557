import Foundation
import Sandbox
import Testing

@Suite struct WorkRootTests {
    @Test func workRootBelowAPrivateFolderIsRefusedWithTheFolderNamed() throws {
        try #require(geteuid() == 0, "the sandbox switches to an unprivileged uid only when run as root")
        let privateFolder = "/tmp/golem-bridge-test/private-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: privateFolder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: privateFolder) }
        let error = try #require(throws: SandboxError.self) { try Sandbox().prepareWorkRoot(privateFolder + "/work") }
        #expect(error.description.contains("\(privateFolder) has no search permission"))
    }

    @Test func reachableWorkRootIsCreatedAndItsPathStandardized() throws {
        let parent = "/tmp/golem-bridge-test/open-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let path = try Sandbox().prepareWorkRoot(parent + "/./a/../work")
        #expect(path == parent + "/work")
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue)
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o755)
    }

    @Test func aFileInTheWayIsAnErrorNamingTheWorkRoot() throws {
        let file = "/tmp/golem-bridge-test/file-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: "/tmp/golem-bridge-test", withIntermediateDirectories: true)
        try Data().write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let error = try #require(throws: SandboxError.self) { try Sandbox().prepareWorkRoot(file + "/work") }
        #expect(error.description.contains("cannot create the work root \(file)/work"))
    }
}
