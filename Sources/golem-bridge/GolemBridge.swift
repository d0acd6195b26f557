import ArgumentParser

@main
struct GolemBridge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "golem-bridge",
        abstract: "Run jobs on the Golem Network through RabbitMQ.",
        discussion: """
            `serve` runs the bridge, `provider` the provider agent of the local Golem network. The \
            other commands are a client for people: they talk to a running bridge through the broker, \
            as any program can (see docs/asyncapi.yaml). \
            An option whose help shows [env ...] can also be set in that variable, GOLEM_BRIDGE_<OPTION> \
            (e.g. GOLEM_BRIDGE_AMQP_URL), or by its long name in a JSON file given with `serve --config` \
            or named by GOLEM_BRIDGE_CONFIG; flags win over the environment, which wins over the file.
            """,
        subcommands: [Serve.self, Provider.self, Submit.self, Watch.self, Cancel.self, Status.self, Jobs.self],
        defaultSubcommand: nil
    )
}
