import Testing
import Yagna

@Suite struct RuntimeEventTests {
    func event(_ kind: String, index: Int = 0) throws -> RuntimeEvent {
        try RuntimeEvent.decode(#"{"batch_id":"b1","index":\#(index),"timestamp":"2025-01-01T00:00:00.123456","kind":\#(kind)}"#)
    }

    @Test func eachKindYagnaSendsIsRead() throws {
        let started = try event(#"{"started":{"command":{"run":{"entry_point":"/bin/sh","args":[]}}}}"#)
        #expect(started.batchId == "b1")
        #expect(started.index == 0)
        #expect(started.timestamp == "2025-01-01T00:00:00.123456")
        guard case .started(let command?) = started.kind else { Issue.record("\(started.kind)"); return }
        #expect(command["run"]?["entry_point"] == .string("/bin/sh"))
        #expect(try event(#"{"finished":{"return_code":3,"message":"exited"}}"#, index: 2).kind == .finished(returnCode: 3, message: "exited"))
        #expect(try event(#"{"finished":{"return_code":0,"message":null}}"#).kind == .finished(returnCode: 0, message: nil))
        #expect(try event(#"{"stdout":"a\n"}"#).kind == .stdout(.text("a\n")))
        #expect(try event(#"{"stdout":[0,255,10]}"#).kind == .stdout(.bytes([0, 255, 10])))
        #expect(try event(#"{"stderr":"oops"}"#).kind == .stderr(.text("oops")))
        #expect(try event(#"{"stderr":[111]}"#).kind == .stderr(.bytes([111])))
        let progress = try event(#"{"progress":{"step":[1,2],"progress":[10,null],"unit":"B"}}"#)
        guard case .progress(let value) = progress.kind else { Issue.record("\(progress.kind)"); return }
        #expect(value["unit"] == .string("B"))
        #expect(value["step"]?.array?.count == 2)
    }

    @Test func anUnknownKindIsKeptNotRefused() throws {
        #expect(try event(#"{"somethingNew":{"x":1}}"#).kind == .unknown("somethingNew"))
    }

    @Test func aTimestampIsOptionalAndAnErrorIsNotAnEvent() throws {
        let event = try RuntimeEvent.decode(#"{"batch_id":"b","index":1,"kind":{"stdout":"x"}}"#)
        #expect(event.timestamp == nil)
        #expect(throws: (any Error).self) { try RuntimeEvent.decode(#"{"message":"Activity not found"}"#) }
        #expect(throws: (any Error).self) { try RuntimeEvent.decode(#"{"batch_id":"b","index":0,"kind":{}}"#) }
    }
}
