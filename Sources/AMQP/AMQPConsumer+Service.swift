import ServiceLifecycle

/// `run()` honours graceful shutdown: in a `ServiceGroup`, a shutdown signal cancels the consumer,
/// closes its connection, finishes `deliveries` and `run()` returns.
extension AMQPConsumer: Service {}
