/// What a Swift task asks the consumer thread to do. Tags carry the channel generation (see `Delivery`).
enum ConsumerCommand: Sendable {
    case ack(UInt64, multiple: Bool)
    case nack(UInt64, multiple: Bool, requeue: Bool)
    case reject(UInt64, requeue: Bool)
    case close
}
