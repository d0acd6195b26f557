import RequestDecoding

/// libFuzzer's entry point: one input, as a request body, through the decoder. The decoder either
/// returns a request or throws a `RequestRejection`; what fails the run is anything else (a crash,
/// a trap, a hang, memory past `-rss_limit_mb`), or a result that breaks the contract:
/// - a rejection's job ID, when it has one, is a valid job ID (it becomes a routing key word);
/// - an accepted request's job ID is valid, and it has at least one step;
/// - the decoder answers the same bytes the same way (it is pure).
func requestDecoderFuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let body = size == 0 || data == nil ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    // Half the inputs also carry a message_id taken from their first bytes, the fallback job ID.
    let messageId: String? = body.first.map { $0 & 1 == 0 } == true
        ? String(decoding: body.prefix(Int(body[0] >> 2)), as: UTF8.self) : nil
    let first = outcome(body, messageId: messageId)
    precondition(first == outcome(body, messageId: messageId), "the decoder answered the same input two ways")
    switch first {
    case .accepted(let jobId, let steps):
        precondition(jobId.map(RequestCodec.isValidJobId) ?? true, "accepted an invalid job ID: \(jobId ?? "")")
        precondition(steps > 0, "accepted a request without work")
    case .rejected(let rejection):
        precondition(rejection.jobId.map(RequestCodec.isValidJobId) ?? true, "a rejection names an invalid job ID")
        precondition(!rejection.message.isEmpty, "a rejection without a reason")
    }
    return 0
}

private enum Outcome: Equatable {
    case accepted(jobId: String?, steps: Int)
    case rejected(RequestRejection)
}

private func outcome(_ body: [UInt8], messageId: String?) -> Outcome {
    do {
        let request = try RequestCodec.decode(body, messageId: messageId)
        return .accepted(jobId: request.jobId, steps: request.spec.work.count)
    } catch {
        return .rejected(error)
    }
}
