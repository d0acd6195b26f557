import Synchronization

/// What a Swift task asks the publisher thread to do.
enum PublisherCommand: Sendable {
    case publish(PublishRequest)
    case topology(TopologyOperation, CheckedContinuation<Void, any Error>)
    case close

    func fail(_ error: AMQPError) {
        switch self {
        case .publish(let request): request.continuation.resume(throwing: error)
        case .topology(_, let continuation): continuation.resume(throwing: error)
        case .close: break
        }
    }
}

/// A declaration or deletion run through the publisher connection.
enum TopologyOperation: Sendable {
    case declare(Topology)
    case deleteQueue(String)
    case deleteExchange(String)
}

/// One message waiting to be published and confirmed.
struct PublishRequest: Sendable {
    let exchange: String
    let routingKey: String
    let body: [UInt8]
    let properties: MessageProperties
    let mandatory: Bool
    let continuation: PublishCompletion
}

/// Who learns that a publish was confirmed or failed: one caller of `publish`, or one message of a
/// batch (``AMQPPublisher/publish(_:)``), whose caller wakes once the whole batch is settled.
enum PublishCompletion: Sendable {
    case single(CheckedContinuation<Void, any Error>)
    case batch(PublishBatch, index: Int)

    func resume() { settle(.success(())) }

    func resume(throwing error: any Error) { settle(.failure(error)) }

    private func settle(_ result: Result<Void, any Error>) {
        switch self {
        case .single(let continuation): continuation.resume(with: result)
        case .batch(let batch, let index): batch.settle(index, result)
        }
    }
}

/// The results of a batch of publishes; resumes its caller when the last one is settled.
final class PublishBatch: Sendable {
    private let state: Mutex<(results: [Result<Void, any Error>?], open: Int)>
    private let continuation: CheckedContinuation<[Result<Void, any Error>], Never>

    init(count: Int, continuation: CheckedContinuation<[Result<Void, any Error>], Never>) {
        state = Mutex((Array(repeating: nil, count: count), count))
        self.continuation = continuation
    }

    func settle(_ index: Int, _ result: Result<Void, any Error>) {
        let done = state.withLock { state -> [Result<Void, any Error>]? in
            guard state.results[index] == nil else { return nil }
            state.results[index] = result
            state.open -= 1
            return state.open == 0 ? state.results.map { $0! } : nil
        }
        if let done { continuation.resume(returning: done) }
    }
}

/// One message of a batch for ``AMQPPublisher/publish(_:)``.
public struct OutgoingMessage: Sendable {
    public var exchange: String
    public var routingKey: String
    public var body: [UInt8]
    public var properties: MessageProperties
    public var mandatory: Bool

    public init(exchange: String, routingKey: String, body: [UInt8], properties: MessageProperties = .init(), mandatory: Bool = false) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.body = body
        self.properties = properties
        self.mandatory = mandatory
    }
}
