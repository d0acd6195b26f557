/// The settings every client command (`submit`, `watch`, `cancel`, `status`) shares: `serve`'s broker
/// and prefix, with the same environment names and defaults.
public struct ClientSettings: SettingsTable {
    public let amqpURL = ServeSettings().amqpURL.with(summary: "Broker URL.")
    public let prefix = ServeSettings().prefix.with(summary: "The bridge's topology prefix.")

    public init() {}
}
