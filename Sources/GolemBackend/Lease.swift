import Foundation
import GolemJobs

/// One rented provider: an approved agreement with a deployed, started activity. Lent to one job at
/// a time by the pool; identified by its agreement ID.
struct Lease: Sendable, Hashable {
    var agreementId: String
    var activityId: String
    var provider: ProviderInfo
    /// The requirements key (package + market) jobs must share to reuse it.
    var key: String
    /// When the agreement's rental time is up (monotonic).
    var expires: ContinuousClock.Instant
}
