print("golem-bridge: not yet wired")
