import Foundation
import GolemJobs
import Yagna

/// The ExeScript commands for a job's steps (docs/notes/yagna-requestor-api.md §4), and the reading of their results. Pure.
///
/// Files move by GFTP (GolemBackend+GFTP.swift). With ``FileTransfers/verifiedStdout`` an upload is a
/// `run` of `/bin/sh -c 'printf %s "$2" | base64 -d > "$1"'` with the data base64 in an argument
/// (chunked below the kernel's per-argument limit), a download `run`s of `base64` over ranges of the
/// file, read from stdout; both are verified by size and SHA-256 (``VerifiedTransfer``). `transfer` from http(s) is ExeScript `transfer`. A job's `run`
/// captures both streams whole as bytes (``runCapture``); our own commands (base64, digests) as text
/// (``ExeScriptCommand/Capture/whole``). A bare command (no `/`) runs
/// through `/bin/sh`, which looks it up on PATH: the VM's `run` does not.
public enum StepScript {
    /// Base64 characters per upload command: well below Linux's 128 KiB per-argument limit.
    public static let uploadChunk = 96 * 1024

    /// A job's `run` captures both streams whole as bytes (`format: "bin"`): yagna's exe-unit makes
    /// a `str` capture with a lossy UTF-8 conversion, so output that is not UTF-8 (a PNG) would reach
    /// the bridge altered; `bin` returns the bytes as a JSON array, checked through real yagna 0.17.6
    /// with our agent (GolemBackendBinaryOutputTests). The bridge reads them as text itself
    /// (``StepResult/run(index:exitCode:stdout:stderr:stdoutTruncated:stderrTruncated:)``).
    public static let runCapture = ExeScriptCommand.Capture(stdout: .atEnd(format: .bin), stderr: .atEnd(format: .bin))

    /// A streaming job `run` (`stream: true`): both streams as bytes, and as events while the command
    /// runs (yagna's exe-unit sends stdout/stderr events only for a `stream` capture); the provider keeps
    /// at most `limit` bytes of each for the result.
    public static func streamCapture(limit: Int) -> ExeScriptCommand.Capture {
        ExeScriptCommand.Capture(stdout: .stream(limit: limit, format: .bin), stderr: .stream(limit: limit, format: .bin))
    }

    /// The bytes of a captured stream, whichever format it came in.
    public static func bytes(of output: ExeScriptCommandResult.Output?) -> [UInt8] {
        switch output {
        case .bytes(let bytes): bytes
        case .text(let text): Array(text.utf8)
        case nil: []
        }
    }

    /// What the first use of an activity runs.
    public static let deployAndStart: [ExeScriptCommand] = [.deploy(), .start()]

    /// Empties `/golem/work` (dot files too) between two jobs on one rental, and fails (exit 1) when
    /// anything is left, so the rental is ended rather than lent with another job's files: `rm -rf` alone
    /// leaves what sits in a folder the job made read-only, and says nothing once its errors are hidden.
    /// The check uses only shell builtins (`[`, globbing): an image without `rm` fails it too.
    /// It runs first, so a job that left nothing (the common case) costs the shell alone, not a
    /// `chmod` and an `rm` too: in bwrap as our provider agent runs it, 10–12.5 ms against 16.5–16.9 ms
    /// of wall time per cleanup on the shared 2-core bench machine (200 runs of each, twice); this runs
    /// in every warm Golem job's batch.
    public static let emptyWorkFolder = ExeScriptCommand.run(
        entryPoint: "/bin/sh",
        args: ["-c", """
            empty() {
              for f in /golem/work/* /golem/work/.[!.]* /golem/work/..?*; do
                if [ -e "$f" ] || [ -L "$f" ]; then return 1; fi
              done
            }
            empty && exit 0
            set -- /golem/work/* /golem/work/.[!.]* /golem/work/..?*
            chmod -R u+w "$@" 2>/dev/null; rm -rf "$@" 2>/dev/null
            empty && exit 0
            echo "left in /golem/work: $f" >&2; exit 1
            """],
        capture: .whole
    )

    /// The commands of one step. Uploads of more than ``uploadChunk`` base64 characters take several.
    /// With `streamLimit`, a `run` step's command captures with ``streamCapture(limit:)``.
    public static func commands(for step: WorkStep, streamLimit: Int? = nil) -> [ExeScriptCommand] {
        switch step {
        case .run(let run):
            var (entryPoint, args): (String, [String])
            switch run.command {
            case .shell(let line): (entryPoint, args) = ("/bin/sh", ["-c", line])
            case .exec(let command, let arguments) where command.contains("/"): (entryPoint, args) = (command, arguments)
            case .exec(let command, let arguments):
                // A VM's init starts `entry_point` with execve: no PATH lookup, so a bare `python3`
                // would fail there. The shell finds it on the image's PATH, as our sandbox does, and
                // hands the arguments over untouched ("$0" is the command, "$@" its arguments).
                (entryPoint, args) = ("/bin/sh", ["-c", #"exec "$0" "$@""#, command] + arguments)
            }
            // ExeScript `run` has no env field (docs/notes/yagna-requestor-api.md §4): env(1) sets it. `--` ends env's
            // options; operands are then NAME=VALUE assignments up to the command (GNU and busybox).
            if !run.env.isEmpty {
                args = ["--"] + run.env.sorted(by: { $0.key < $1.key }).map { "\($0.key)=\($0.value)" } + [entryPoint] + args
                entryPoint = "/usr/bin/env"
            }
            return [.run(entryPoint: entryPoint, args: args, capture: streamLimit.map(streamCapture(limit:)) ?? runCapture)]
        case .uploadData(let to, let bytes), .uploadJson(let to, let bytes):
            return upload(bytes, to: to)
        case .downloadData(let from), .downloadJson(let from):
            // The first batch of a download measures the file; its ranges follow one batch each
            // (``VerifiedTransfer``).
            return [VerifiedTransfer.digestCommand(of: from)]
        case .transfer(let from, let to):
            return [.transfer(from: from, to: "container:" + to)]
        }
    }

    static func upload(_ bytes: [UInt8], to path: String) -> [ExeScriptCommand] {
        let encoded = Data(bytes).base64EncodedString()
        var commands: [ExeScriptCommand] = []
        var offset = encoded.startIndex
        repeat {
            let end = encoded.index(offset, offsetBy: uploadChunk, limitedBy: encoded.endIndex) ?? encoded.endIndex
            let chunk = String(encoded[offset..<end])
            let script = commands.isEmpty
                ? #"mkdir -p -- "$(dirname -- "$1")" && printf %s "$2" | base64 -d > "$1""#
                : #"printf %s "$2" | base64 -d >> "$1""#
            commands.append(.run(entryPoint: "/bin/sh", args: ["-c", script, "sh", path, chunk], capture: .whole))
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
