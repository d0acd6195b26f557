/// The requestor side of the activity API (`/activity-api/v1`).
extension YagnaClient {
    /// Creates an activity on an approved agreement; yagna waits up to `timeout` for the provider.
    public func createActivity(agreementId: String, timeout: Duration) async throws -> String {
        struct Created: Decodable { var activityId: String }
        let created = try await json(
            .POST, "/activity-api/v1/activity", query: [("timeout", Self.seconds(timeout))],
            body: ["agreementId": agreementId], wait: timeout, as: Created.self
        )
        return created.activityId
    }

    /// Destroys an activity. One already gone (404/409/410) counts as done.
    public func destroyActivity(_ activityId: String, timeout: Duration) async throws {
        do {
            try await send(.DELETE, "/activity-api/v1/activity/\(activityId)", query: [("timeout", Self.seconds(timeout))], wait: timeout)
        } catch let error as YagnaError where error.code == .notFound || error.code == .conflict {
            return
        }
    }

    public func activityState(_ activityId: String) async throws -> ActivityState {
        try await json(.GET, "/activity-api/v1/activity/\(activityId)/state", as: ActivityState.self)
    }

    /// Sends an ExeScript batch; returns the batch ID.
    public func exec(_ activityId: String, script: [ExeScriptCommand]) async throws -> String {
        try await json(.POST, "/activity-api/v1/activity/\(activityId)/exec", body: ["text": try ExeScriptCommand.text(script)], as: String.self)
    }

    /// The batch's results so far, waiting up to `timeout` for more. An HTTP 408 (nothing new within
    /// the wait) is returned as `nil`: poll again.
    public func batchResults(_ activityId: String, batchId: String, timeout: Duration) async throws -> [ExeScriptCommandResult]? {
        do {
            return try await json(
                .GET, "/activity-api/v1/activity/\(activityId)/exec/\(batchId)",
                query: [("timeout", Self.seconds(timeout))], wait: timeout, as: [ExeScriptCommandResult].self
            )
        } catch let error as YagnaError where error.code == .http(408) {
            return nil
        }
    }
}
