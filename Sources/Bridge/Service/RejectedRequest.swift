import Crypto
import Foundation
import GolemJobs

/// The `error` (`invalid_request`) and `ended` that tell a rejected request's subscribers.
///
/// Its key and the CloudEvent ids derive from the job ID and the body (SHA-256), so every delivery of
/// the same request makes the same ids, and consumers drop the duplicates a redelivery brings.
struct RejectedRequest: Sendable {
    /// Which delivered request this is: SHA-256 of the job ID and the body, in hex.
    let key: String
    let jobId: String
    let events: [(event: JobEvent, envelope: EventEnvelope, sequence: Int)]

    init(jobId: String, body: [UInt8], message: String, time: Date, source: String) {
        var hash = SHA256()
        hash.update(data: Array(jobId.utf8) + [0])
        hash.update(data: body)
        let digest = Array(hash.finalize())
        self.key = digest.map { String(format: "%02x", $0) }.joined()
        self.jobId = jobId
        let failure = JobError(.invalidRequest, message)
        self.events = [(1, JobEvent.Kind.error), (2, .ended)].map { sequence, kind in
            let event = JobEvent(jobId: jobId, kind: kind, state: .rejected, attempt: 0, time: time, error: failure)
            let envelope = EventCodec.encode(
                event, id: Self.eventId(digest, kind), sequence: sequence, source: source, labels: [:]
            )
            return (event, envelope, sequence)
        }
    }

    /// A UUID in the version-5 layout, from the request's digest and the event kind.
    static func eventId(_ digest: [UInt8], _ kind: JobEvent.Kind) -> String {
        var b = Array(SHA256.hash(data: digest + Array(kind.rawValue.utf8)).prefix(16))
        b[6] = (b[6] & 0x0F) | 0x50
        b[8] = (b[8] & 0x3F) | 0x80
        let uuid = UUID(uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]))
        return uuid.uuidString.lowercased()
    }
}
