import Testing
@testable import LocalProvider

/// The VM's behaviours the exe-unit keeps (pure parts; the run itself is covered on the local network).
@Suite struct ExeUnitRulesTests {
    @Test func aBareEntryPointFailsAsExecveWould() throws {
        let refusal = try #require(ExeUnit.entryPointRefusal("python3"))
        #expect(refusal.hasPrefix("cannot run python3: No such file or directory"))
        #expect(refusal.contains("no PATH lookup"))
        #expect(ExeUnit.entryPointRefusal("/usr/bin/python3") == nil)
        #expect(ExeUnit.entryPointRefusal("./tool") == nil, "a relative path is execve's to resolve")
    }

    @Test func transfersLandOnlyInTheWorkVolume() throws {
        #expect(try Transfer.containerPath("container:/golem/work/a/b.txt") == ["a", "b.txt"])
        for outside in ["container:/golem/input/a", "container:/etc/passwd", "container:/golem/work/../x", "container:/golem/work"] {
            #expect(throws: TransferError.self, "\(outside)") { try Transfer.containerPath(outside) }
        }
    }
}
