import Foundation
import JSONModel
import Testing
@testable import Bridge

@Suite struct JobSnapshotTests {
    @Test func unknownHasOnlyIdAndState() {
        #expect(String(decoding: JobSnapshot.unknown("x-1").encoded(), as: UTF8.self) == #"{"jobId":"x-1","state":"unknown"}"#)
    }

    @Test func knownJobHasEveryRequiredField() {
        let snapshot = JobSnapshot(
            jobId: "j", state: "rejected", attempt: 2, createdAt: Date(timeIntervalSince1970: 0),
            updatedAt: Date(timeIntervalSince1970: 1), lastEvent: "ended",
            error: .object([JSONMember("code", .string("timeout")), JSONMember("message", .string("took too long"))]))
        #expect(String(decoding: snapshot.encoded(), as: UTF8.self) == """
            {"jobId":"j","state":"rejected","attempt":2,"createdAt":"1970-01-01T00:00:00.000Z",\
            "updatedAt":"1970-01-01T00:00:01.000Z","lastEvent":"ended","error":{"code":"timeout","message":"took too long"}}
            """)
    }

    @Test func lastEventIsNullBeforeTheFirstEvent() {
        let snapshot = JobSnapshot(jobId: "j", state: "new", attempt: 0, createdAt: .now, updatedAt: .now, lastEvent: nil)
        #expect(snapshot.json["lastEvent"] == .null)
    }

    @Test func decodeReadsBackWhatEncodeWrote() throws {
        let snapshot = JobSnapshot(
            jobId: "j", state: "done", attempt: 1, createdAt: Date(timeIntervalSince1970: 1_795_946_400),
            updatedAt: Date(timeIntervalSince1970: 1_795_946_403.12), lastEvent: "ended",
            result: .object([JSONMember("steps", .array([])), JSONMember("output", .string("hi\n"))]))
        let decoded = try #require(JobSnapshot.decode(snapshot.encoded()))
        #expect(decoded.encoded() == snapshot.encoded())
        #expect(decoded.attempt == 1 && decoded.lastEvent == "ended" && decoded.result?["output"]?.string == "hi\n")
        #expect(JobSnapshot.decode(JobSnapshot.unknown("x").encoded()) == .unknown("x"))
    }

    @Test func decodeRefusesWhatIsNotASnapshot() {
        for body in ["", "[]", #"{"jobId":"x"}"#, #"{"state":"done"}"#, #"{"jobId":1,"state":"done"}"#, "{oops"] {
            #expect(JobSnapshot.decode(Array(body.utf8)) == nil, "\(body)")
        }
    }
}
