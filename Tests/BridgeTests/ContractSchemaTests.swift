import Foundation
import Testing
import GolemJobs
import JSONModel
@testable import Bridge

/// The codecs and the published JSON Schemas (docs/schemas) must agree: the request decoder
/// accepts exactly the fixtures the schema accepts, and everything the bridge sends validates.
/// The schemas are checked with python3's `jsonschema` through `scripts/validate-json.py`.
@Suite(.serialized) struct ContractSchemaTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let schemas = root.appendingPathComponent("docs/schemas")
    static let requests = root.appendingPathComponent("Tests/BridgeTests/Fixtures/requests")
    /// Rules the schema cannot state (size, encoding, nesting depth); the decoder alone judges them.
    static let beyondSchema: Set<RequestRejection.Reason> = [.tooLarge, .notUTF8, .tooDeep]

    struct Fixture {
        var url: URL
        /// `nil` for a valid request.
        var reason: RequestRejection.Reason?
    }

    static func fixtures() throws -> [Fixture] {
        let fm = FileManager.default
        var out: [Fixture] = []
        for name in try fm.contentsOfDirectory(atPath: requests.appendingPathComponent("valid").path).sorted() {
            out.append(Fixture(url: requests.appendingPathComponent("valid/\(name)"), reason: nil))
        }
        let invalid = requests.appendingPathComponent("invalid")
        for reasonName in try fm.contentsOfDirectory(atPath: invalid.path).sorted() {
            let reason = try #require(RequestRejection.Reason(rawValue: reasonName), "fixture folder \(reasonName) is no reason code")
            for name in try fm.contentsOfDirectory(atPath: invalid.appendingPathComponent(reasonName).path).sorted() {
                out.append(Fixture(url: invalid.appendingPathComponent("\(reasonName)/\(name)"), reason: reason))
            }
        }
        return out
    }

    /// Runs a python3 script from scripts/; fails the test clearly when python3 or its modules are missing.
    static func runPython(_ script: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", root.appendingPathComponent("scripts/\(script)").path] + arguments
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        do {
            try process.run()
        } catch {
            Issue.record("cannot run python3 (needed to check the contract documents): \(error)")
            throw error
        }
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if process.terminationStatus == 3 || process.terminationStatus == 127 {
            let message = "scripts/\(script) could not run: python3 with jsonschema 4.18+ and PyYAML is required. \(String(decoding: err, as: UTF8.self))"
            Issue.record(Comment(rawValue: message))
            throw JournalError(message)
        }
        return (process.terminationStatus, String(decoding: out, as: UTF8.self) + String(decoding: err, as: UTF8.self))
    }

    /// Runs the validator; returns path → (valid, explanation).
    static func validate(schema: String, files: [URL]) throws -> [String: (Bool, String)] {
        let (status, output) = try runPython("validate-json.py", [schemas.appendingPathComponent(schema).path] + files.map(\.path))
        guard status == 0 else {
            Issue.record(Comment(rawValue: "scripts/validate-json.py failed (\(status)): \(output)"))
            throw JournalError(output)
        }
        var verdicts: [String: (Bool, String)] = [:]
        for line in output.split(separator: "\n") {
            if line.hasPrefix("valid ") {
                verdicts[String(line.dropFirst(6))] = (true, "")
            } else if line.hasPrefix("invalid ") {
                let rest = line.dropFirst(8)
                let path = rest.split(separator: ":", maxSplits: 1).first.map(String.init) ?? String(rest)
                verdicts[path] = (false, String(rest))
            }
        }
        for file in files where verdicts[file.path] == nil { Issue.record("no verdict for \(file.path)") }
        return verdicts
    }

    @Test func asyncAPIDocumentIsConsistent() throws {
        let reasons = RequestRejection.Reason.allCases.map(\.rawValue)
        let (status, output) = try Self.runPython("check-asyncapi.py", [Self.root.appendingPathComponent("docs/asyncapi.yaml").path] + reasons)
        #expect(status == 0, "\(output)")
    }

    @Test func errorCodesInTheSchemaAreTheCoreCodes() throws {
        let data = try [UInt8](Data(contentsOf: Self.schemas.appendingPathComponent("event-data.schema.json")))
        let schema = try JSONValue.parse(data)
        guard case .array(let codes)? = schema["$defs"]?["error"]?["properties"]?["code"]?["enum"] else {
            Issue.record("event-data.schema.json has no error code enum")
            return
        }
        #expect(Set(codes.compactMap(\.string)) == Set(JobError.Code.allCases.map(\.rawValue)))
        guard case .array(let kinds)? = schema["$defs"]?["eventKind"]?["enum"] else {
            Issue.record("event-data.schema.json has no event kind enum")
            return
        }
        #expect(Set(kinds.compactMap(\.string)) == Set(JobEvent.Kind.allCases.map(\.rawValue)))
    }

    @Test func requestDecoderAgreesWithTheSchema() throws {
        let fixtures = try Self.fixtures()
        #expect(fixtures.count > 50)
        let verdicts = try Self.validate(schema: "job-request.schema.json", files: fixtures.map(\.url))
        for fixture in fixtures {
            let name = fixture.url.pathComponents.suffix(2).joined(separator: "/")
            let body = try [UInt8](Data(contentsOf: fixture.url))
            var swiftReason: RequestRejection.Reason?
            var swiftMessage = ""
            do {
                _ = try RequestCodec.decode(body, messageId: nil)
            } catch {
                swiftReason = error.reason
                swiftMessage = error.message
            }
            #expect(swiftReason == fixture.reason, "\(name): decoder says \(swiftReason?.rawValue ?? "valid") \(swiftMessage)")
            if let reason = fixture.reason, Self.beyondSchema.contains(reason) { continue }
            let (schemaValid, why) = verdicts[fixture.url.path] ?? (false, "no verdict")
            #expect(schemaValid == (swiftReason == nil), "\(name): schema says \(schemaValid ? "valid" : why); decoder says \(swiftReason?.rawValue ?? "valid") \(swiftMessage)")
        }
    }

    static func sampleEvents() -> [JobEvent] {
        let t = Date(timeIntervalSince1970: 1_800_000_000.25)
        let provider = ProviderInfo(id: "0x1234", name: "provider-1")
        let steps = [
            StepResult(index: 0, kind: .uploadData),
            StepResult(index: 1, kind: .run, exitCode: 0, stdout: "6\n", stderr: "", outputTruncated: true),
            StepResult(index: 2, kind: .downloadData, data: [0, 1, 2, 255]),
            StepResult(index: 3, kind: .downloadJson, data: Array(#"{"a":[1,{"b":null}]}"#.utf8)),
            StepResult(index: 4, kind: .downloadJson, data: Array("not json".utf8)),
            StepResult(index: 5, kind: .transfer),
            StepResult.run(index: 6, exitCode: 0, stdout: [0, 0xFF, 0x50, 0x4E, 0x47], stderr: [0xC3]),
        ]
        let result = JobResult(steps: steps)
        let failed = JobError(.commandFailed, "work[1].run exited with 2", step: 1)
        return [
            JobEvent(jobId: "j-1", kind: .created, state: .new, attempt: 0, time: t),
            JobEvent(jobId: "j-1", kind: .started, state: .pending, attempt: 1, time: t, provider: provider),
            JobEvent(jobId: "j-1", kind: .progress, state: .pending, attempt: 1, time: t, provider: provider, step: steps[1]),
            JobEvent(jobId: "j-1", kind: .success, state: .done, attempt: 1, time: t, provider: provider, result: result),
            JobEvent(jobId: "j-1", kind: .ended, state: .done, attempt: 1, time: t, provider: provider, result: result),
            JobEvent(jobId: "j-2", kind: .error, state: .rejected, attempt: 2, time: t, error: failed),
            JobEvent(jobId: "j-2", kind: .ended, state: .rejected, attempt: 2, time: t, error: failed),
            JobEvent(jobId: "j-3", kind: .canceled, state: .rejected, attempt: 0, time: t, error: JobError(.canceled, "canceled by request")),
            JobEvent(jobId: "j-4", kind: .error, state: .rejected, attempt: 0, time: t, error: JobError(.invalidRequest, "work[0] has the unknown step kind \"x\"")),
            // Streamed output pieces (a run step with "stream": true).
            JobEvent(jobId: "j-1", kind: .progress, state: .pending, attempt: 1, time: t, provider: provider,
                     output: StepOutput(step: 1, stream: .stderr, text: "half way\n")),
            JobEvent(jobId: "j-1", kind: .progress, state: .pending, attempt: 1, time: t, provider: provider,
                     output: StepOutput(step: 1, stream: .stdout, text: "", truncated: true)),
        ]
    }

    func writeAll(_ bodies: [[UInt8]], in directory: URL) throws -> [URL] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return try bodies.enumerated().map { i, body in
            let url = directory.appendingPathComponent("\(i).json")
            try Data(body).write(to: url)
            return url
        }
    }

    @Test func eventsValidateAgainstTheCloudEventSchema() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("events-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let bodies = Self.sampleEvents().enumerated().map { i, event in
            EventCodec.encode(event, id: UUID().uuidString, sequence: i + 1, source: "host-1", labels: ["customer": "acme", "ctl": "a\u{1}b"]).body
        }
        let files = try writeAll(bodies, in: directory)
        let verdicts = try Self.validate(schema: "cloudevent.schema.json", files: files)
        for file in files {
            let (valid, why) = verdicts[file.path] ?? (false, "no verdict")
            let body = String(decoding: (try? Data(contentsOf: file)) ?? Data(), as: UTF8.self)
            #expect(valid, "\(why) — \(body)")
        }
    }

    @Test func snapshotsValidateAgainstTheirSchema() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("snapshots-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let events = Self.sampleEvents()
        let t = Date(timeIntervalSince1970: 1_800_000_000)
        let snapshots = [
            JobSnapshot.unknown("never-seen"),
            JobSnapshot(jobId: "j-0", state: "new", attempt: 0, createdAt: t, updatedAt: t, lastEvent: nil),
            JobSnapshot(jobId: "j-1", state: "done", attempt: 1, createdAt: t, updatedAt: t + 3, lastEvent: "ended",
                        result: EventCodec.resultJSON(events[3].result!)),
            JobSnapshot(jobId: "j-2", state: "rejected", attempt: 2, createdAt: t, updatedAt: t + 3, lastEvent: "error",
                        error: EventCodec.errorJSON(events[5].error!)),
        ]
        let files = try writeAll(snapshots.map { $0.encoded() }, in: directory)
        let verdicts = try Self.validate(schema: "job-snapshot.schema.json", files: files)
        for file in files {
            let (valid, why) = verdicts[file.path] ?? (false, "no verdict")
            #expect(valid, "\(why)")
        }
    }

    @Test func journalSnapshotsValidate() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("journal-snap-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let journal = try Journal(path: directory.appendingPathComponent("j.sqlite").path)
        var bodies: [[UInt8]] = []
        for (i, event) in Self.sampleEvents().enumerated() {
            if case .accepted = try await journal.accept(jobId: event.jobId, request: [], replyTo: nil, correlationId: nil, now: event.time) {
                bodies.append(try #require(try await journal.snapshot(jobId: event.jobId)).encoded())
            }
            try await journal.append(event: event, envelope: EventCodec.encode(event, id: "e\(i)", sequence: i + 1, source: "h", labels: [:]), sequence: i + 1)
            bodies.append(try #require(try await journal.snapshot(jobId: event.jobId)).encoded())
        }
        let files = try writeAll(bodies, in: directory.appendingPathComponent("out"))
        let verdicts = try Self.validate(schema: "job-snapshot.schema.json", files: files)
        for file in files {
            let (valid, why) = verdicts[file.path] ?? (false, "no verdict")
            #expect(valid, "\(why)")
        }
    }
}
