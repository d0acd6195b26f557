import ServiceLifecycle

/// `run()` honours graceful shutdown: in a `ServiceGroup`, a shutdown signal closes the publisher
/// (in-flight confirms are awaited, bounded) and `run()` returns.
extension AMQPPublisher: Service {}
