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
    let continuation: CheckedContinuation<Void, any Error>
}
