import ArgumentParser

@main
struct GolemBridge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "golem-bridge",
        abstract: "Run jobs on the Golem Network through RabbitMQ.",
        discussion: """
            `serve` runs the bridge. The other commands are a client for people: they talk to a running \
            bridge through the broker, as any program can (see docs/asyncapi.yaml). \
            Every option can also come from the environment as GOLEM_BRIDGE_<OPTION> (e.g. \
            GOLEM_BRIDGE_AMQP_URL) or from a JSON file given with --config; flags win over the \
            environment, which wins over the file.
            """,
        subcommands: [Serve.self, Provider.self, Submit.self, Watch.self, Cancel.self, Status.self],
        defaultSubcommand: nil
    )
}
