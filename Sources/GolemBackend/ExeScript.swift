import Foundation
import GolemJobs

/// ExeScript commands for a job's steps (REFERENCE.md §3.4), and their wire text. Pure.
///
/// The provider has no GFTP: an upload is a `run` of `/bin/sh -c 'printf %s "$2" | base64 -d > "$1"'`
/// with the data base64 in an argument (chunked below the kernel's per-argument limit), a download
/// a `run` of `base64` reading stdout; `transfer` from http(s) is ExeScript `transfer`.
public enum ExeScript {
    /// One command, encoded as yagna's serde expects (externally tagged, `entry_point` snake_case).
    public enum Command: Sendable, Hashable {
        case deploy
        case start
        case run(entryPoint: String, args: [String])
        case transfer(from: String, to: String)

        var json: [String: Any] {
            switch self {
            case .deploy: ["deploy": [String: Any]()]
            case .start: ["start": ["args": [String]()]]
            case .run(let entryPoint, let args):
                [
                    "run": [
                        "entry_point": entryPoint, "args": args,
                        "capture": ["stdout": ["atEnd": ["format": "string"]], "stderr": ["atEnd": ["format": "string"]]],
                    ] as [String: Any],
                ]
            case .transfer(let from, let to): ["transfer": ["from": from, "to": to]]
            }
        }
    }

    /// Base64 characters per upload command: well below Linux's 128 KiB per-argument limit.
    public static let uploadChunk = 96 * 1024

    /// The `{"text": …}` string: a JSON array of the commands.
    public static func text(_ commands: [Command]) -> String {
        let data = try! JSONSerialization.data(withJSONObject: commands.map(\.json), options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    /// What the first use of an activity runs.
    public static let deployAndStart: [Command] = [.deploy, .start]

    /// The commands of one step. Uploads of more than ``uploadChunk`` base64 characters take several.
    public static func commands(for step: WorkStep) -> [Command] {
        switch step {
        case .run(let run):
            var (entryPoint, args): (String, [String])
            switch run.command {
            case .shell(let line): (entryPoint, args) = ("/bin/sh", ["-c", line])
            case .exec(let command, let arguments): (entryPoint, args) = (command, arguments)
            }
            // ExeScript `run` has no env field (REFERENCE.md §3.4): env(1) sets it. `--` ends env's
            // options; operands are then NAME=VALUE assignments up to the command (GNU and busybox).
            if !run.env.isEmpty {
                args = ["--"] + run.env.sorted(by: { $0.key < $1.key }).map { "\($0.key)=\($0.value)" } + [entryPoint] + args
                entryPoint = "/usr/bin/env"
            }
            return [.run(entryPoint: entryPoint, args: args)]
        case .uploadData(let to, let bytes), .uploadJson(let to, let bytes):
            return upload(bytes, to: to)
        case .downloadData(let from), .downloadJson(let from):
            return [.run(entryPoint: "/bin/sh", args: ["-c", #"base64 -- "$1" | tr -d '\n'"#, "sh", from])]
        case .transfer(let from, let to):
            return [.transfer(from: from, to: "container:" + to)]
        }
    }

    static func upload(_ bytes: [UInt8], to path: String) -> [Command] {
        let encoded = Data(bytes).base64EncodedString()
        var commands: [Command] = []
        var offset = encoded.startIndex
        repeat {
            let end = encoded.index(offset, offsetBy: uploadChunk, limitedBy: encoded.endIndex) ?? encoded.endIndex
            let chunk = String(encoded[offset..<end])
            let script = commands.isEmpty
                ? #"mkdir -p -- "$(dirname -- "$1")" && printf %s "$2" | base64 -d > "$1""#
                : #"printf %s "$2" | base64 -d >> "$1""#
            commands.append(.run(entryPoint: "/bin/sh", args: ["-c", script, "sh", path, chunk]))
            offset = end
        } while offset < encoded.endIndex
        return commands
    }

    /// The exit code in a failed run's message (`ExeScript command exited with code 127`).
    public static func exitCode(fromMessage message: String?) -> Int32? {
        guard let message, let range = message.range(of: #"code (-?[0-9]+)"#, options: .regularExpression) else { return nil }
        return Int32(message[range].dropFirst(5))
    }

    /// Decodes a download's stdout (base64, whitespace ignored).
    public static func decodeDownload(_ stdout: String?) -> [UInt8]? {
        let text = (stdout ?? "").filter { !$0.isWhitespace }
        return Data(base64Encoded: text).map { [UInt8]($0) }
    }
}
