import AMQP
import Synchronization

/// Pumps a consumer's stream into a buffer from one task so tests can wait for "n more" or check that
/// nothing else arrives (cancelling an iterating task would end the stream itself).
final class DeliveryInbox: Sendable {
    private final class Storage: Sendable {
        let buffer = Mutex<[Delivery]>([])
        let batches = Mutex(0)
    }

    private let storage = Storage()

    init(_ consumer: AMQPConsumer) {
        let storage = storage
        Task {
            do {
                for try await batch in consumer.deliveries {
                    storage.buffer.withLock { $0 += batch }
                    storage.batches.withLock { $0 += 1 }
                }
            } catch {}
        }
    }

    var count: Int { storage.buffer.withLock { $0.count } }
    var batchCount: Int { storage.batches.withLock { $0 } }

    /// Removes and returns `count` deliveries, waiting up to `timeout`; fewer when it timed out.
    func take(_ count: Int, timeout: Duration = .seconds(10)) async -> [Delivery] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let got = storage.buffer.withLock({ b -> [Delivery]? in
                guard b.count >= count else { return nil }
                defer { b.removeFirst(count) }
                return Array(b.prefix(count))
            }) {
                return got
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return storage.buffer.withLock { b in defer { b.removeAll() }; return b }
    }
}
