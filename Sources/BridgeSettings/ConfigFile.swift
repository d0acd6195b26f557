import Foundation

/// The `--config` JSON file: one object whose keys are settings (their long option names) and whose
/// values are strings, numbers or booleans, kept as text for ``SettingSources`` to parse like a flag.
public struct ConfigFile: Sendable, Equatable {
    public let path: String
    public let values: [String: String]

    /// Parses the file's contents; `path` is only for messages.
    public init(path: String, contents: Data) throws(SettingError) {
        self.path = path
        do {
            values = try JSONDecoder().decode([String: Scalar].self, from: contents).mapValues(\.text)
        } catch let DecodingError.typeMismatch(_, context) where !context.codingPath.isEmpty {
            throw SettingError("the config file \(path): \"\(context.codingPath[0].stringValue)\" must be a string, number or boolean")
        } catch {
            throw SettingError("the config file \(path) is not a JSON object of settings")
        }
    }

    /// Reads and parses the file. Blocking file I/O: call it once at start, before any service runs.
    public static func read(path: String) throws(SettingError) -> ConfigFile {
        let contents: Data
        do { contents = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw SettingError("cannot read the config file \(path): \(error.localizedDescription)")
        }
        return try ConfigFile(path: path, contents: contents)
    }

    /// Refuses a key that is not a setting (a typo would otherwise be ignored and its default used),
    /// naming the key and, when one is close, the setting it may mean.
    public func rejectUnknownKeys(known: Set<String>) throws(SettingError) {
        for key in values.keys.sorted() where !known.contains(key) {
            let near = known.map { ($0, Self.editDistance($0, key)) }.filter { $0.1 <= 2 }.min { ($0.1, $0.0) < ($1.1, $1.0) }
            throw SettingError(
                "the config file \(path) has the unknown setting \"\(key)\""
                    + (near.map { "; did you mean \"\($0.0)\"?" } ?? "")
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
}

/// A JSON string, number or boolean, as the text a flag would give: `8`, `0.5`, `true`.
private struct Scalar: Decodable {
    let text: String

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let string = try? container.decode(String.self) {
            text = string
        } else if let bool = try? container.decode(Bool.self) {
            text = bool ? "true" : "false"
        } else if let int = try? container.decode(Int.self) {
            text = String(int)
        } else if let double = try? container.decode(Double.self) {
            text = "\(double)"
        } else {
            throw DecodingError.typeMismatch(
                String.self, .init(codingPath: decoder.codingPath, debugDescription: "not a string, number or boolean"))
        }
    }
}
