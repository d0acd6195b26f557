import Foundation
import GolemJobs
import Synchronization
import Testing
@testable import Bridge

/// The dashboard's tap: every journaled event, with the job's labels, in the order it is published.
@Suite struct BridgeRuntimeObserverTests {
    final class Seen: Sendable {
        private let events = Mutex<[(JobEvent, [String: String])]>([])
        func add(_ event: JobEvent, _ labels: [String: String]) { events.withLock { $0.append((event, labels)) } }
        var all: [(JobEvent, [String: String])] { events.withLock { $0 } }
    }

    @Test func theObserverSeesEveryJournaledEventWithTheLabelsInPublishedOrder() async throws {
        let seen = Seen()
        let harness = try RuntimeHarness(observer: { event, labels in seen.add(event, labels) })
        await harness.submit(1, Array(#"{"jobId":"seen","labels":{"team":"web"},"work":[{"run":"true"}]}"#.utf8))
        await harness.finishWhenRunning("seen")

        let published = harness.events(of: "seen").map(\.kind)
        #expect(published == ["created", "started", "progress", "success", "ended"])
        #expect(seen.all.map(\.0.kind.rawValue) == published)
        #expect(seen.all.allSatisfy { $0.0.jobId == "seen" && $0.1 == ["team": "web"] })
    }
}
