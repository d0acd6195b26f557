import GolemJobs
import JSONModel

/// Decodes and validates job requests (contract v1, `golem.jobs` / `submit`).
///
/// Pure: bytes in, a `JobRequest` or a `RequestRejection` out. The checks run cheapest first:
/// size, UTF-8, JSON with a nesting limit, then the schema in `docs/schemas/job-request.schema.json`.
/// Unknown fields are rejected everywhere, so a misspelt field never silently takes a default.
public enum RequestCodec {
    /// `maxAttempts` when the request does not say.
    public static let defaultMaxAttempts = 3
    /// The largest `maxAttempts`.
    public static let maxAttemptsLimit = 10
    /// The longest `timeoutSeconds` (job or step): 30 days.
    public static let maxTimeoutSeconds: Double = 30 * 24 * 3600
    /// The rentals a request may ask for (`market.rentHours`): what ya-provider accepts, 5 minutes
    /// (its shortest agreement) to 24 hours (its longest payment timeout and debit-note interval).
    public static let rentHours: ClosedRange<Double> = (5.0 / 60)...24
    /// The most entries in each of `market.providers.only`, `.exclude` and `.prefer`, and the
    /// longest entry in characters (a node name; an id is 42).
    public static let maxProviderEntries = 100
    public static let maxProviderEntryLength = 256

    /// Whether `tag` may be a `market.subnetTag`: 1–64 of `[A-Za-z0-9._-]`. It is written into the
    /// demand's constraint text, so characters of that syntax (`(`, `)`, `&`, `=`, spaces) are refused.
    public static func isValidSubnetTag(_ tag: String) -> Bool {
        isWord(tag, maxBytes: 64, alsoAllowing: "._-")
    }

    /// 1 to `maxBytes` of ASCII letters, digits and the characters of `extra`.
    static func isWord(_ text: String, maxBytes: Int, alsoAllowing extra: String) -> Bool {
        let utf8 = text.utf8
        guard !utf8.isEmpty, utf8.count <= maxBytes else { return false }
        return utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || extra.utf8.contains(b)
        }
    }

    /// The longest label key and value, in characters (Unicode scalars).
    public static let maxLabelKeyLength = 64
    public static let maxLabelValueLength = 256

    /// Whether `id` is a valid job ID: 1–128 of `[A-Za-z0-9_:-]`. No dot: it is one word of a
    /// topic routing key.
    public static func isValidJobId(_ id: String) -> Bool {
        isWord(id, maxBytes: 128, alsoAllowing: "_:-")
    }

    /// The `jobId` of a body that is JSON except for invalid UTF-8 somewhere (say, in a command's
    /// text), so its sender still gets an `error` and `ended`. Invalid bytes become U+FFFD, which no
    /// valid job ID contains, so a damaged ID is never taken for another.
    static func jobIdOfInvalidUTF8(_ body: [UInt8], maxDepth: Int) -> String? {
        let repaired = Array(String(decoding: body, as: UTF8.self).utf8)
        guard let json = try? JSONValue.parse(repaired, maxDepth: maxDepth),
              case .string(let id) = json["jobId"], isValidJobId(id) else { return nil }
        return id
    }

    /// Decodes a request body. `messageId` is the AMQP `message_id`, used as the job ID when the
    /// body has none.
    public static func decode(
        _ body: [UInt8], messageId: String?, limits: RequestLimits = .init()
    ) throws(RequestRejection) -> JobRequest {
        let fallbackId = messageId.flatMap { isValidJobId($0) ? $0 : nil }
        guard body.count <= limits.maxBytes else {
            throw RequestRejection(
                .tooLarge, "the request is \(body.count) bytes, more than the limit of \(limits.maxBytes) bytes",
                jobId: fallbackId)
        }
        let json: JSONValue
        do {
            json = try JSONValue.parse(body, maxDepth: limits.maxDepth)
        } catch {
            switch error {
            case .notUTF8:
                throw RequestRejection(
                    .notUTF8, "the request is not valid UTF-8",
                    jobId: jobIdOfInvalidUTF8(body, maxDepth: limits.maxDepth) ?? fallbackId)
            case .syntax(let what):
                throw RequestRejection(.notJSON, "the request is not valid JSON: \(what)", jobId: fallbackId)
            case .tooDeep(let limit):
                throw RequestRejection(
                    .tooDeep, "the request nests arrays and objects more than \(limit) levels deep", jobId: fallbackId)
            }
        }
        guard case .object(let members) = json else {
            throw RequestRejection(.schema, "the request must be a JSON object, not \(json.typeName)", jobId: fallbackId)
        }

        // The job ID first, so every later rejection can carry it.
        let jobId: String?
        if let value = json["jobId"] {
            guard case .string(let id) = value, isValidJobId(id) else {
                throw RequestRejection(
                    .invalidJobId, "jobId must be a string of 1 to 128 characters from A-Z a-z 0-9 _ : - (no dot)")
            }
            jobId = id
        } else if let messageId {
            guard isValidJobId(messageId) else {
                throw RequestRejection(
                    .invalidJobId,
                    "the request has no jobId and its message_id is not a valid job ID (1 to 128 characters from A-Z a-z 0-9 _ : -, no dot)")
            }
            jobId = messageId
        } else {
            jobId = nil
        }

        var reader = RequestReader(limits: limits, jobId: jobId)
        let spec = try reader.spec(members)
        return JobRequest(jobId: jobId, spec: spec)
    }
}
