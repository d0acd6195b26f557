import Foundation

/// One place that resolves a setting: flag, then `GOLEM_BRIDGE_<NAME>`, then the `--config` JSON file,
/// then the default.
struct Settings {
    let file: [String: Any]
    let environment: [String: String]

    init(configPath: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        self.environment = environment
        let path = configPath ?? environment["GOLEM_BRIDGE_CONFIG"]
        guard let path else {
            file = [:]
            return
        }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw SettingsError("cannot read the config file \(path): \(error.localizedDescription)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw SettingsError("the config file \(path) is not a JSON object")
        }
        file = object
    }

    /// Refuses a config file with a key that is not a setting (a typo would otherwise be ignored
    /// and its default used), naming the key and, when one is close, the setting it may mean.
    func rejectUnknownFileKeys(known: Set<String>) throws {
        for key in file.keys.sorted() where !known.contains(key) {
            let near = known.map { ($0, Self.editDistance($0, key)) }.filter { $0.1 <= 2 }.min { $0.1 < $1.1 }
            throw SettingsError(
                "the config file has the unknown setting \"\(key)\"" + (near.map { "; did you mean \"\($0.0)\"?" } ?? "")
                    + " (settings are the long option names of --help)")
        }
    }

    /// Levenshtein distance: single-character insertions, deletions and substitutions.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        var row = Array(0...b.count)
        for i in 1...a.count {
            var diagonal = row[0]
            row[0] = i
            for j in b.indices {
                let above = row[j + 1]
                row[j + 1] = min(above + 1, row[j] + 1, diagonal + (a[i - 1] == b[j] ? 0 : 1))
                diagonal = above
            }
        }
        return row[b.count]
    }

    /// The environment name of a setting: `amqp-url` → `GOLEM_BRIDGE_AMQP_URL`.
    static func environmentName(_ key: String) -> String {
        "GOLEM_BRIDGE_" + key.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    func string(_ key: String, flag: String?, default defaultValue: String) -> String {
        string(key, flag: flag) ?? defaultValue
    }

    func string(_ key: String, flag: String?) -> String? {
        if let flag { return flag }
        if let value = environment[Self.environmentName(key)], !value.isEmpty { return value }
        if let value = file[key] { return "\(value)" }
        return nil
    }

    func int(_ key: String, flag: Int?, default defaultValue: Int) throws -> Int {
        if let flag { return flag }
        guard let text = string(key, flag: nil) else { return defaultValue }
        guard let value = Int(text) else {
            throw SettingsError("\(key) must be a whole number, got \"\(text)\" (from \(source(key)))")
        }
        return value
    }

    func double(_ key: String, flag: Double?, default defaultValue: Double) throws -> Double {
        if let flag { return flag }
        guard let text = string(key, flag: nil) else { return defaultValue }
        guard let value = Double(text), value.isFinite else {
            throw SettingsError("\(key) must be a number, got \"\(text)\" (from \(source(key)))")
        }
        return value
    }

    private func source(_ key: String) -> String {
        environment[Self.environmentName(key)] != nil ? Self.environmentName(key) : "the config file"
    }
}

struct SettingsError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A failure at run time (broker unreachable, no answer): printed as `Error: ...`, exit status 1,
/// without the usage text that argument errors get.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
