import Foundation
import Logging
import Yagna

/// The local Golem network that `scripts/golem-local start` runs (two real yagna nodes), read from
/// the env file it writes. scripts/test starts it before the Swift tests. Shared by the test targets
/// that talk to the real yagna.
public struct GolemLocal: Sendable {
    public var values: [String: String]

    public static func load() throws -> GolemLocal {
        let directory = ProcessInfo.processInfo.environment["GOLEM_LOCAL_DIR"] ?? ".build/golem-local"
        let path = directory + "/env"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw GolemLocalMissing(message: "no \(path): run `scripts/golem-local start` (scripts/test does)")
        }
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("export ") {
            let pair = line.dropFirst("export ".count)
            guard let equals = pair.firstIndex(of: "=") else { continue }
            values[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
        }
        return GolemLocal(values: values)
    }

    public var requestor: YagnaConfiguration { YagnaConfiguration(apiURL: values["YAGNA_API_URL"] ?? "", appKey: values["YAGNA_APPKEY"] ?? "") }
    public var provider: YagnaConfiguration { YagnaConfiguration(apiURL: values["GOLEM_LOCAL_PROVIDER_API_URL"] ?? "", appKey: values["GOLEM_LOCAL_PROVIDER_APPKEY"] ?? "") }
    public var requestorId: String { values["GOLEM_LOCAL_REQUESTOR_ID"] ?? "" }
    public var providerId: String { values["GOLEM_LOCAL_PROVIDER_ID"] ?? "" }

    /// Provider nodes `scripts/golem-local start --providers N` ran (1 for an older env file).
    public var providerCount: Int { Int(values["GOLEM_LOCAL_PROVIDERS"] ?? "") ?? 1 }

    /// The same network seen from provider node `k` (1-based): `provider` and `providerId` name it.
    public func asProvider(_ k: Int) -> GolemLocal {
        var copy = self
        for name in ["API_URL", "APPKEY", "ID", "GSB_URL", "DATADIR"] {
            if let value = values["GOLEM_LOCAL_PROVIDER_\(k)_\(name)"] { copy.values["GOLEM_LOCAL_PROVIDER_\(name)"] = value }
        }
        return copy
    }

    /// How many provider nodes the env file at `GOLEM_LOCAL_DIR` lists, 0 when there is none
    /// (for `.enabled(if:)` traits).
    public static var providerCount: Int { (try? load())?.providerCount ?? 0 }
}

public struct GolemLocalMissing: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
