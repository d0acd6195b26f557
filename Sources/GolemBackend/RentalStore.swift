/// Durable memory of what the backend rented, so a restart after a crash can end it and pay for it.
///
/// The backend records an agreement as soon as yagna gave its ID, an activity as soon as it exists,
/// and forgets an agreement only once its invoice is accepted. Payment event cursors live here too.
public protocol RentalStore: Sendable {
    func allocationId() async throws -> String?
    func setAllocationId(_ id: String?) async throws
    /// An agreement we created (not necessarily approved yet).
    func recordAgreement(_ agreementId: String, providerId: String) async throws
    /// The agreement was terminated (or never approved): nothing to end after a crash, its invoice still owed.
    func markTerminated(agreementId: String) async throws
    /// The agreement's invoice was accepted (or it can never come): forget it.
    func forgetAgreement(_ agreementId: String) async throws
    func recordActivity(_ activityId: String, agreementId: String) async throws
    func forgetActivity(_ activityId: String) async throws
    /// What a crash left rented: live agreements and activities.
    func leftovers() async throws -> (agreements: [String], activities: [String])
    /// Every agreement not yet forgotten (live or awaiting its invoice).
    func agreements() async throws -> [String]
    func cursor(_ name: String) async throws -> String?
    func setCursor(_ name: String, _ value: String) async throws
    /// When this store was first opened (RFC 3339), where payment event cursors start: events
    /// before it belong to no agreement of this bridge, and a node's history can be long.
    func firstStart() async throws -> String
}
