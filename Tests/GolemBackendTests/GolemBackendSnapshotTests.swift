import Foundation
import GolemBackend
import Testing
import Yagna

/// The read-only snapshot the dashboard shows; the pool's own moves are RentalPoolStateTests'.
@Suite struct GolemBackendSnapshotTests {
    @Test func aNewBackendShowsAnEmptyPoolAndItsWholeBudget() throws {
        let directory = NSTemporaryDirectory() + "golem-snapshot-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Nothing is contacted: the yagna address is never used.
        let configuration = GolemBackendConfiguration(
            yagna: YagnaConfiguration(apiURL: "http://127.0.0.1:1", appKey: "unused"), budget: Decimal(string: "2.5")!,
            statePath: directory + "/state.sqlite"
        )
        let backend = GolemBackend(configuration: configuration, store: try SQLiteRentalStore(path: configuration.statePath), logger: testLogger)
        let snapshot = backend.poolSnapshot()
        #expect(snapshot.idle == 0 && snapshot.lent == 0 && snapshot.creating == 0 && snapshot.agreements == 0)
        #expect(snapshot.budget == Decimal(string: "2.5")!)
        #expect(snapshot.reserved == 0)
        #expect(snapshot.spent == 0)
    }
}
