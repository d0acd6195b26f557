/// `golem-bridge jobs`' settings: where the dashboard's API is.
public struct JobsSettings: SettingsTable {
    public let dashboardURL = Setting<String>(
        "url", "The bridge's HTTP endpoint (serve --http-address), whose /api/jobs lists the jobs.",
        type: .httpURL, default: "http://127.0.0.1:9464", key: "dashboard-url"
    )

    public init() {}
}
