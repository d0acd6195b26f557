import Bridge
import BridgeSettings
import Foundation
import JSONModel
import Logging

/// The one place `serve` and `provider` set up logging: every line to standard error, as text or as JSON.
enum LogOutput {
    static func bootstrap(level: Logger.Level, format: LogFormat) {
        LoggingSystem.bootstrap { label in
            switch format {
            case .text:
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            case .json:
                var handler = JSONLineLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        }
    }
}

/// Writes each log record as one JSON object on one line of standard error:
/// `{"time":"…Z","level":"info","label":"golem-bridge","source":"Bridge","message":"…","job.id":"…",…}`.
/// Metadata keys follow the fixed ones; one that would shadow a fixed key is written as `metadata.<key>`.
/// swift-log ships only its text handler, hence this one. Each line goes out in one `write(2)` on the
/// unbuffered standard error (as StreamLogHandler's lines do), so lines of several threads never interleave.
struct JSONLineLogHandler: LogHandler {
    static let fixedKeys: Set<String> = ["time", "level", "label", "source", "message"]

    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider

    init(label: String) {
        self.label = label
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var line = Self.line(
            time: Date(), level: event.level, label: label, source: event.source, message: "\(event.message)",
            metadata: merged(event.metadata)
        )
        line.append(UInt8(ascii: "\n"))
        FileHandle.standardError.write(Data(line))
    }

    /// The JSON object of one record, without the newline. Metadata keys are sorted, so a line reads
    /// the same every time.
    static func line(
        time: Date, level: Logger.Level, label: String, source: String, message: String, metadata: Logger.Metadata
    ) -> [UInt8] {
        var members = [
            JSONMember("time", .string(Timestamp.string(time))),
            JSONMember("level", .string(level.rawValue)),
            JSONMember("label", .string(label)),
            JSONMember("source", .string(source)),
            JSONMember("message", .string(message)),
        ]
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            members.append(JSONMember(fixedKeys.contains(key) ? "metadata.\(key)" : key, json(value)))
        }
        return JSONValue.object(members).encoded()
    }

    private func merged(_ explicit: Logger.Metadata?) -> Logger.Metadata {
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { _, new in new } }
        if let explicit { all.merge(explicit) { _, new in new } }
        return all
    }

    private static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let text): .string(text)
        case .stringConvertible(let convertible): .string(convertible.description)
        case .array(let values): .array(values.map(json))
        case .dictionary(let members): .object(members.sorted(by: { $0.key < $1.key }).map { JSONMember($0.key, json($0.value)) })
        }
    }
}
