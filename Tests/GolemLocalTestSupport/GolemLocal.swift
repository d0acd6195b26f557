import Foundation
import Logging
import Yagna

/// The local Golem network that `scripts/golem-local start` runs (two real yagna nodes), read from
/// the env file it writes. scripts/test starts it before the Swift tests.
struct GolemLocal: Sendable {
    var values: [String: String]

    static func load() throws -> GolemLocal {
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

    var requestor: YagnaConfiguration { YagnaConfiguration(apiURL: values["YAGNA_API_URL"] ?? "", appKey: values["YAGNA_APPKEY"] ?? "") }
    var provider: YagnaConfiguration { YagnaConfiguration(apiURL: values["GOLEM_LOCAL_PROVIDER_API_URL"] ?? "", appKey: values["GOLEM_LOCAL_PROVIDER_APPKEY"] ?? "") }
    var requestorId: String { values["GOLEM_LOCAL_REQUESTOR_ID"] ?? "" }
    var providerId: String { values["GOLEM_LOCAL_PROVIDER_ID"] ?? "" }
}

struct GolemLocalMissing: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

let testLogger = Logger(label: "yagna-test")
