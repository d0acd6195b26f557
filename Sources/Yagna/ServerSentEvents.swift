/// One event of a `text/event-stream` body: what a blank line dispatches.
public struct ServerSentEvent: Sendable, Hashable {
    /// The `event` field; `message` when the event named none.
    public var event: String
    /// The `data` fields, joined with `\n`.
    public var data: String
    /// The last `id` field seen on the stream (it carries over to later events, as the format says).
    public var id: String?

    public init(event: String = "message", data: String, id: String? = nil) {
        self.event = event
        self.data = data
        self.id = id
    }
}

/// An event-stream line or event over the parser's bound.
public struct ServerSentEventsError: Error, Sendable, Hashable, CustomStringConvertible {
    public var limit: Int
    public var description: String { "an event of the stream is larger than \(limit) bytes" }
}

/// Reads a `text/event-stream` body (the WHATWG "server-sent events" format) as it arrives. Pure: feed
/// it the body's chunks, take the events each completes.
///
/// Lines end with CRLF, LF or CR (a CRLF split across two chunks counts once). A line `field: value`
/// sets `event`, appends to `data` or sets `id` (one space after the colon is dropped; other fields
/// and `retry` are ignored); a line starting with `:` is a comment (yagna's `:ping`); a blank line
/// dispatches the event, unless it has no data. An event (its data and the line being read) larger
/// than `maxEventBytes` throws ``ServerSentEventsError``: the stream cannot be read on.
public struct ServerSentEventParser: Sendable {
    public let maxEventBytes: Int

    private var line: [UInt8] = []
    private var afterCR = false
    private var event = ""
    private var data: [UInt8] = []
    private var hasData = false
    private var lastId: String?

    public init(maxEventBytes: Int = 1 << 20) {
        self.maxEventBytes = maxEventBytes
    }

    /// Reads one chunk; returns the events it completed, in order.
    public mutating func feed<Bytes: Sequence>(_ bytes: Bytes) throws(ServerSentEventsError) -> [ServerSentEvent] where Bytes.Element == UInt8 {
        var events: [ServerSentEvent] = []
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\n") where afterCR:
                afterCR = false
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                afterCR = byte == UInt8(ascii: "\r")
                if let event = try endLine() { events.append(event) }
            default:
                afterCR = false
                line.append(byte)
                if line.count + data.count > maxEventBytes { throw ServerSentEventsError(limit: maxEventBytes) }
            }
        }
        return events
    }

    private mutating func endLine() throws(ServerSentEventsError) -> ServerSentEvent? {
        defer { line.removeAll(keepingCapacity: true) }
        guard !line.isEmpty else { return dispatch() }
        if line[0] == UInt8(ascii: ":") { return nil }
        let colon = line.firstIndex(of: UInt8(ascii: ":")) ?? line.endIndex
        let name = String(decoding: line[..<colon], as: UTF8.self)
        var value = colon < line.endIndex ? line[(colon + 1)...] : []
        if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
        switch name {
        case "event":
            event = String(decoding: value, as: UTF8.self)
        case "data":
            if hasData { data.append(UInt8(ascii: "\n")) }
            data.append(contentsOf: value)
            hasData = true
            if data.count > maxEventBytes { throw ServerSentEventsError(limit: maxEventBytes) }
        case "id" where !value.contains(0):
            lastId = String(decoding: value, as: UTF8.self)
        default:
            break
        }
        return nil
    }

    private mutating func dispatch() -> ServerSentEvent? {
        defer {
            event = ""
            data.removeAll(keepingCapacity: true)
            hasData = false
        }
        guard hasData else { return nil }
        return ServerSentEvent(event: event.isEmpty ? "message" : event, data: String(decoding: data, as: UTF8.self), id: lastId)
    }
}
