import Foundation

/// Resolves settings: the flag, then the environment, then the `--config` file, then the default.
/// Every value, whatever its source, goes through the setting's ``ValueType``, so a bad one is refused
/// the same way, naming the setting and where it came from.
public struct SettingSources: Sendable {
    public let environment: [String: String]
    public let file: ConfigFile?

    public init(environment: [String: String], file: ConfigFile? = nil) {
        self.environment = environment
        self.file = file
    }

    /// The config file's path setting, `--config` / `GOLEM_BRIDGE_CONFIG` (a file cannot name another).
    public static let config = Setting<String?>(
        "config", "JSON file with any of these options by their long names (e.g. {\"concurrency\": 8}).",
        type: .text, defaultNote: nil, inFile: false
    )

    /// The environment, and the config file named by `configFlag` or else by `GOLEM_BRIDGE_CONFIG`.
    /// Reads the file (blocking): call it once at start, before any service runs.
    public static func load(
        configFlag: String?, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(SettingError) -> SettingSources {
        let path = try SettingSources(environment: environment).value(config, flag: configFlag)
        return SettingSources(environment: environment, file: try path.map { path throws(SettingError) in try ConfigFile.read(path: path) })
    }

    /// The text a source gives for `setting` and which source it is, or `nil` when none does.
    public func text<Value>(for setting: Setting<Value>, flag: String?) -> (text: String, source: SettingSource)? {
        if let flag { return (flag, .flag(setting.name)) }
        for name in setting.environment {
            if let value = environment[name], !value.isEmpty { return (value, .environment(name)) }
        }
        if let file, let key = setting.fileKey, let value = file.values[key] { return (value, .file(path: file.path)) }
        return nil
    }

    /// The setting's value: from the first source that gives one, else its default.
    public func value<Value>(_ setting: Setting<Value>, flag: String?) throws(SettingError) -> Value {
        guard let (text, source) = text(for: setting, flag: flag) else { return setting.defaultValue }
        guard let value = setting.type.parse(text) else {
            let got = setting.isSecret ? "" : ", got \"\(text)\""
            throw SettingError("\(label(setting, source)) must be \(setting.type.expected)\(got)\(source)")
        }
        return value
    }

    /// The setting's value turned into a richer type by `convert` (an AMQP URL into its
    /// configuration); an error `convert` throws is reported as `--name: <error> (from <source>)`.
    public func value<Value, Converted>(
        _ setting: Setting<Value>, flag: String?, as convert: (Value) throws -> Converted
    ) throws(SettingError) -> Converted {
        let value = try value(setting, flag: flag)
        do {
            return try convert(value)
        } catch {
            let source = text(for: setting, flag: flag)?.source ?? .default
            throw SettingError("\(label(setting, source)): \(error)\(source)")
        }
    }

    /// `--name`; for a setting without a flag, the variable it came from.
    private func label<Value>(_ setting: Setting<Value>, _ source: SettingSource) -> String {
        if setting.hasFlag { return "--" + setting.name }
        if case .environment(let name) = source { return name }
        return setting.name
    }
}
