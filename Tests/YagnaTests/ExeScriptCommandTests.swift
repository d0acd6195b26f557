import Foundation
import Testing
import Yagna

@Suite struct ExeScriptCommandTests {
    typealias Capture = ExeScriptCommand.Capture

    func script(_ text: String) throws(ExeScriptError) -> [ExeScriptCommand] {
        try ExeScriptCommand.script(from: Data(text.utf8))
    }

    func refusal(_ text: String) -> String? {
        do {
            _ = try script(text)
            return nil
        } catch {
            return error.message
        }
    }

    static let everyCommand: [ExeScriptCommand] = [
        .deploy(), .deploy(env: ["A": "1", "B": "two words"]),
        .start(), .start(args: ["--flag"]),
        .run(entryPoint: "/bin/true"),
        .run(entryPoint: "/bin/sh", args: ["-c", "echo \"hi\" / ü"], capture: .whole),
        .run(entryPoint: "/bin/true", capture: Capture(stdout: .atEnd(.head(3), format: .bin))),
        .run(entryPoint: "/bin/true", capture: Capture(stdout: .atEnd(.tail(4)), stderr: .atEnd(.headTail(5), format: .str))),
        .run(entryPoint: "/bin/true", capture: Capture(stderr: .stream(limit: 4096, format: .str))),
        .run(entryPoint: "/bin/true", capture: Capture(stdout: .stream(), stderr: .atEnd())),
        .transfer(from: "https://example.org/x", to: "container:/golem/work/x"),
        .terminate,
    ]

    @Test(arguments: everyCommand)
    func everyCommandRoundTrips(_ command: ExeScriptCommand) throws {
        let text = try ExeScriptCommand.text([command])
        #expect(try script(text) == [command], "\(text)")
    }

    @Test func commandsAreExternallyTaggedWithSnakeCaseEntryPoint() throws {
        #expect(try ExeScriptCommand.text([.deploy(), .start(), .run(entryPoint: "/bin/true"), .terminate])
            == #"[{"deploy":{}},{"start":{"args":[]}},{"run":{"args":[],"entry_point":"/bin/true"}},{"terminate":{}}]"#)
        #expect(try ExeScriptCommand.text([.run(entryPoint: "/bin/true", capture: Capture(stdout: .atEnd(.headTail(8), format: .bin)))])
            == #"[{"run":{"args":[],"capture":{"stdout":{"atEnd":{"format":"bin","headTail":8}}},"entry_point":"/bin/true"}}]"#)
        #expect(try ExeScriptCommand.text([.deploy(env: ["K": "V"]), .transfer(from: "https://x/y", to: "container:/golem/work/y")])
            == #"[{"deploy":{"env":{"K":"V"}}},{"transfer":{"from":"https://x/y","to":"container:/golem/work/y"}}]"#)
    }

    /// A script as yagna's serde writes it and golem-js sends it (docs/notes/yagna-requestor-api.md §4): fields this
    /// model does not carry are ignored, format aliases are read, null optionals are absent.
    @Test func decodesYagnaShapedText() throws {
        let commands = try script("""
            [{"deploy":{"net":[{"id":"n","ip":"192.168.0.0","mask":"255.255.255.0","gateway":null,"nodeIp":"192.168.0.2","nodes":{}}],
                        "hosts":{"master":"192.168.0.1"},"hostname":"h","env":{"K":"V"},"volumes":{"/golem/data":{"storage":{"size":"10g"}}},
                        "progress":{"updateInterval":"300ms","updateStep":null}}},
             {"start":{}},
             {"transfer":{"from":"https://example.org/in","to":"container:/golem/work/in.txt","format":"zip","depth":2,"args":null,"progress":null}},
             {"run":{"entry_point":"/bin/sh","args":["-c","echo hello"],"env":{"IGNORED":"1"},
                     "capture":{"stdout":{"atEnd":{"format":"string"}},"stderr":{"stream":{"limit":4096,"format":"binary"}}}}},
             {"run":{"entry_point":"/bin/true","args":[],"capture":null}},
             {"run":{"entry_point":"/bin/true","capture":{"stdout":{"atEnd":{"tail":3,"format":null}},"stderr":null}}},
             {"terminate":{}}]
            """)
        #expect(commands == [
            .deploy(env: ["K": "V"]), .start(),
            .transfer(from: "https://example.org/in", to: "container:/golem/work/in.txt"),
            .run(entryPoint: "/bin/sh", args: ["-c", "echo hello"], capture: Capture(stdout: .atEnd(format: .str), stderr: .stream(limit: 4096, format: .bin))),
            .run(entryPoint: "/bin/true"),
            .run(entryPoint: "/bin/true", capture: Capture(stdout: .atEnd(.tail(3)))),
            .terminate,
        ])
    }

    @Test func refusesUnknownCommandsNamingTheIndex() {
        #expect(refusal(#"[{"start":{}},{"sign":{}}]"#) == "command 1: sign is not supported (deploy, start, run, transfer, terminate)")
        #expect(refusal(#"[{"start":{}},{"start":{},"run":{}}]"#)?.hasPrefix("command 1: expected an object with one command name") == true)
        #expect(refusal(#"[{}]"#)?.hasPrefix("command 0: expected an object with one command name") == true)
    }

    @Test func refusesMalformedCommandsNamingTheIndexAndField() {
        #expect(refusal(#"[{"deploy":{}},{"run":{"args":[]}}]"#) == "command 1 (run): entry_point is missing")
        #expect(refusal(#"[{"run":{"entry_point":""}}]"#) == "command 0 (run): entry_point is missing")
        #expect(refusal(#"[{"deploy":{}},{"start":{}},{"transfer":{"from":"https://x"}}]"#) == "command 2 (transfer): to is missing")
        #expect(refusal(#"[{"run":{"entry_point":"/bin/echo","args":["a",3]}}]"#)?.hasPrefix("command 0 (run.args.1): ") == true)
        #expect(refusal(#"[{"deploy":{"env":{"A":1}}}]"#)?.hasPrefix("command 0 (deploy.env.A): ") == true)
        #expect(refusal(#"[{"terminate":null}]"#)?.hasPrefix("command 0 (terminate): ") == true)
        #expect(refusal(#"[{"run":{"entry_point":"/bin/true","capture":{"stdout":{"atEnd":{"format":"hex"}}}}}]"#)
            == "command 0 (run.capture.stdout.atEnd.format): format hex is not str or bin")
        #expect(refusal(#"[{"run":{"entry_point":"/bin/true","capture":{"stdout":{"whenever":{}}}}}]"#)?
            .hasPrefix("command 0 (run.capture.stdout): a capture mode is") == true)
        #expect(refusal(#"[{"run":{"entry_point":"/bin/true","capture":{"stdout":{"atEnd":{"head":-1}}}}}]"#)
            == "command 0 (run.capture.stdout.atEnd.head): head is negative")
        #expect(refusal(#"[{"run":{"entry_point":"/bin/true","capture":{"stdout":{"atEnd":{"tail":2.5}}}}}]"#)
            == "command 0 (run.capture.stdout.atEnd.tail): tail is not a whole number of bytes")
    }

    @Test func refusesAScriptThatIsNotAList() {
        #expect(refusal(#"{"deploy":{}}"#)?.hasPrefix("the exe script is not a list of commands") == true)
        #expect(refusal("not json")?.hasPrefix("the exe script is not a list of commands") == true)
    }

    /// serde reads a `usize`: an integer beyond `Int` is a valid count, kept as `Int.max` (keep all).
    @Test func aCountBeyondIntKeepsEverything() throws {
        #expect(try script(#"[{"run":{"entry_point":"/bin/true","capture":{"stdout":{"atEnd":{"head":18446744073709551615}}}}}]"#)
            == [.run(entryPoint: "/bin/true", capture: Capture(stdout: .atEnd(.head(.max))))])
    }
}
