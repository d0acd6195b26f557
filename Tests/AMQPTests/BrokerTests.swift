import Testing

/// All tests that talk to the real broker. Serialized because one of them restarts the broker app,
/// which would break any test running next to it.
@Suite("Broker", .serialized)
struct BrokerTests {}
