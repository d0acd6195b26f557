import Yagna

/// One ExeScript command as yagna's `ExeScriptCommand` serialises it (externally tagged, camelCase
/// keys except `entry_point`): `{"deploy":{…}}`, `{"start":{"args":[]}}`, `{"run":{…}}`,
/// `{"transfer":{"from","to"}}`, `{"terminate":{}}`.
public enum ExeScriptCommand: Sendable, Hashable {
    case deploy(env: [String: String])
    case start(args: [String])
    case run(entryPoint: String, args: [String], capture: Capture)
    case transfer(from: String, to: String)
    case terminate

    /// The command's name, as the exe-unit reports it.
    public var name: String {
        switch self {
        case .deploy: "deploy"
        case .start: "start"
        case .run: "run"
        case .transfer: "transfer"
        case .terminate: "terminate"
        }
    }

    /// Parses a whole script: a JSON array of one-key objects. Unknown commands (e.g. `sign`) and
    /// malformed ones fail the whole script, naming the index, as the exe-unit refuses the batch.
    public static func parseScript(_ value: YagnaJSON) throws(ExeScriptError) -> [ExeScriptCommand] {
        guard let items = value.array else { throw ExeScriptError("the exe script is not a list of commands") }
        var commands: [ExeScriptCommand] = []
        for (index, item) in items.enumerated() {
            commands.append(try parse(item, index: index))
        }
        return commands
    }

    static func parse(_ item: YagnaJSON, index: Int) throws(ExeScriptError) -> ExeScriptCommand {
        guard let object = item.object, object.count == 1, let (name, body) = object.first else {
            throw ExeScriptError("command \(index): expected an object with one command name, got \(item)")
        }
        let fields = body.object ?? [:]
        switch name {
        case "deploy":
            var env: [String: String] = [:]
            for (key, value) in fields["env"]?.object ?? [:] {
                guard let text = value.string else { throw ExeScriptError("command \(index) (deploy): env \(key) is not a string") }
                env[key] = text
            }
            return .deploy(env: env)
        case "start":
            return .start(args: try strings(fields["args"], "start", "args", index))
        case "run":
            guard let entry = fields["entry_point"]?.string ?? fields["entryPoint"]?.string, !entry.isEmpty else {
                throw ExeScriptError("command \(index) (run): entry_point is missing")
            }
            return .run(entryPoint: entry, args: try strings(fields["args"], "run", "args", index),
                        capture: try Capture.parse(fields["capture"], index: index))
        case "transfer":
            guard let from = fields["from"]?.string, let to = fields["to"]?.string else {
                throw ExeScriptError("command \(index) (transfer): from and to are required")
            }
            return .transfer(from: from, to: to)
        case "terminate":
            return .terminate
        default:
            throw ExeScriptError("command \(index): \(name) is not supported by this exe-unit (deploy, start, run, transfer, terminate)")
        }
    }

    private static func strings(_ value: YagnaJSON?, _ command: String, _ field: String, _ index: Int) throws(ExeScriptError) -> [String] {
        guard let value, value != .null else { return [] }
        guard let items = value.array else { throw ExeScriptError("command \(index) (\(command)): \(field) is not a list") }
        var result: [String] = []
        for item in items {
            guard let text = item.string else { throw ExeScriptError("command \(index) (\(command)): \(field) holds a non-string") }
            result.append(text)
        }
        return result
    }
}

/// A script the exe-unit refuses as a whole.
public struct ExeScriptError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
