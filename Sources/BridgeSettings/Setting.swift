import Foundation

/// One setting of a command, declared once: its name, what it is, its type with bounds, its default,
/// and where else it may come from. The flag, its `--help` line, the environment names, the config-file
/// key and the parsed value all come from here (``SettingSources`` resolves it).
///
/// The flag is `--<name>`. Unless told otherwise, the environment name is `GOLEM_BRIDGE_<KEY>` and the
/// config-file key is `<key>`, where the key is the name.
public struct Setting<Value: Sendable>: Sendable {
    /// The long option name, without `--`.
    public let name: String
    /// What the setting is, for `--help` (one paragraph: ArgumentParser reflows it).
    public private(set) var summary: String
    /// How its text is parsed and bounded.
    public let type: ValueType<Value>
    /// The value when no source gives one. For a setting declared with a `defaultNote`, `nil`: the
    /// caller computes it (from other settings or the host).
    public let defaultValue: Value
    /// The default as `--help` shows it (`default 30`, `default: the number of cores`), or `nil`.
    public let defaultHelp: String?
    /// Environment variables read, first found wins (an empty one counts as unset).
    public let environment: [String]
    /// The key in the `--config` JSON file, or `nil` when the file may not hold this setting.
    public let fileKey: String?
    /// Whether the flag exists (a secret that must not show in `ps` has none).
    public let hasFlag: Bool
    /// A secret's value never appears in an error message.
    public let isSecret: Bool

    /// A setting with a constant default.
    /// - Parameters:
    ///   - key: the environment and file key when it differs from the flag's name.
    ///   - environment: replaces the environment names (default `GOLEM_BRIDGE_<KEY>`).
    ///   - inFile: whether the config file may hold it.
    public init(
        _ name: String, _ summary: String, type: ValueType<Value>, default defaultValue: Value,
        key: String? = nil, environment: [String]? = nil, inFile: Bool = true, isSecret: Bool = false
    ) {
        self.init(
            name, summary, type: type, defaultValue: defaultValue, defaultHelp: "default " + type.show(defaultValue),
            key: key, environment: environment, inFile: inFile, hasFlag: true, isSecret: isSecret
        )
    }

    /// A setting whose default is not a constant: resolving it gives `nil` when no source sets it, and
    /// `defaultNote` says in `--help` what the caller uses then (`nil`: nothing, the setting is off).
    public init<Wrapped>(
        _ name: String, _ summary: String, type: ValueType<Wrapped>, defaultNote: String?,
        key: String? = nil, environment: [String]? = nil, inFile: Bool = true, hasFlag: Bool = true,
        isSecret: Bool = false
    ) where Value == Wrapped? {
        self.init(
            name, summary, type: type.optional, defaultValue: nil, defaultHelp: defaultNote.map { "default: " + $0 },
            key: key, environment: environment, inFile: inFile, hasFlag: hasFlag, isSecret: isSecret
        )
    }

    private init(
        _ name: String, _ summary: String, type: ValueType<Value>, defaultValue: Value, defaultHelp: String?,
        key: String?, environment: [String]?, inFile: Bool, hasFlag: Bool, isSecret: Bool
    ) {
        let key = key ?? name
        self.name = name
        self.summary = summary
        self.type = type
        self.defaultValue = defaultValue
        self.defaultHelp = defaultHelp
        self.environment = environment ?? [Self.environmentName(key)]
        self.fileKey = inFile ? key : nil
        self.hasFlag = hasFlag
        self.isSecret = isSecret
    }

    /// The same setting with another summary (a command that shares it but says it in its own words).
    public func with(summary: String) -> Self {
        var copy = self
        copy.summary = summary
        return copy
    }

    /// The `--help` text: the summary, then where else it comes from and its default, e.g.
    /// `Jobs run at once. [env GOLEM_BRIDGE_CONCURRENCY; default: the number of cores]`.
    public var help: String {
        var sources = environment.isEmpty ? [] : ["env " + environment.joined(separator: ", then ")]
        if let defaultHelp { sources.append(defaultHelp) }
        return sources.isEmpty ? summary : "\(summary) [\(sources.joined(separator: "; "))]"
    }

    /// `amqp-url` → `GOLEM_BRIDGE_AMQP_URL`.
    public static func environmentName(_ key: String) -> String {
        "GOLEM_BRIDGE_" + key.uppercased().replacingOccurrences(of: "-", with: "_")
    }
}

/// What a table of settings needs to know of a setting, whatever its type.
public protocol AnySetting: Sendable {
    var name: String { get }
    var fileKey: String? { get }
    var hasFlag: Bool { get }
    var help: String { get }
}

extension Setting: AnySetting {}

/// A command's table of settings: a struct whose stored properties are its ``Setting``s.
public protocol SettingsTable: Sendable {}

extension SettingsTable {
    /// Every setting of the table, in declaration order. Read by reflection, so a setting added to
    /// the table is in this list (and so in the config file's keys) without being listed again.
    public var all: [any AnySetting] {
        Mirror(reflecting: self).children.compactMap { $0.value as? any AnySetting }
    }

    /// The keys a config file may hold for this table.
    public var fileKeys: Set<String> { Set(all.compactMap(\.fileKey)) }
}
