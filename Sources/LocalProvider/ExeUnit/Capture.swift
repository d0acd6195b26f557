import Yagna

/// What a `run` command returns of its stdout and stderr (`capture` in the ExeScript).
///
/// yagna's forms: `{"atEnd":{"head"|"tail"|"headTail": n?, "format": "str"|"string"|"bin"|"binary"}}`
/// or `{"stream":{"limit"?, "format"?}}`. `stream` is answered like `atEnd` (this exe-unit has no
/// streaming results). A stream that is absent from `capture` is not returned (null), as the
/// exe-unit does; a `run` with no `capture` at all returns both streams whole (``Capture/default``),
/// which is what golem-js asks for explicitly.
public struct Capture: Sendable, Hashable {
    public enum Part: Sendable, Hashable {
        case all
        case head(Int)
        case tail(Int)
        case headTail(Int)
    }

    public struct Mode: Sendable, Hashable {
        public var part: Part
        public var binary: Bool
        public init(part: Part = .all, binary: Bool = false) {
            self.part = part
            self.binary = binary
        }
    }

    public var stdout: Mode?
    public var stderr: Mode?

    public init(stdout: Mode?, stderr: Mode?) {
        self.stdout = stdout
        self.stderr = stderr
    }

    public static let `default` = Capture(stdout: Mode(), stderr: Mode())

    static func parse(_ value: YagnaJSON?, index: Int) throws(ExeScriptError) -> Capture {
        guard let value, value != .null else { return .default }
        guard let object = value.object else { throw ExeScriptError("command \(index) (run): capture is not an object") }
        return Capture(stdout: try mode(object["stdout"], "stdout", index), stderr: try mode(object["stderr"], "stderr", index))
    }

    private static func mode(_ value: YagnaJSON?, _ stream: String, _ index: Int) throws(ExeScriptError) -> Mode? {
        guard let value, value != .null else { return nil }
        guard let object = value.object, object.count == 1, let (kind, body) = object.first, kind == "atEnd" || kind == "stream" else {
            throw ExeScriptError("command \(index) (run): capture.\(stream) must be {\"atEnd\":{…}} or {\"stream\":{…}}")
        }
        let fields = body.object ?? [:]
        var mode = Mode()
        switch fields["format"]?.string {
        case nil, "str", "string": mode.binary = false
        case "bin", "binary": mode.binary = true
        case let other?: throw ExeScriptError("command \(index) (run): capture.\(stream) format \(other) is not str or bin")
        }
        for (key, make) in [("head", Part.head), ("tail", Part.tail), ("headTail", Part.headTail)] {
            if let n = fields[key]?.number {
                guard n >= 0 else { throw ExeScriptError("command \(index) (run): capture.\(stream).\(key) is negative") }
                // A count beyond Int (1e300 is valid JSON) keeps everything; Int(n) would trap.
                mode.part = make(n < 0x1p62 ? Int(n) : 1 << 62)
            }
        }
        return mode
    }

    /// The kept part of `bytes`.
    public static func cut(_ bytes: [UInt8], _ part: Part) -> [UInt8] {
        switch part {
        case .all: return bytes
        case .head(let n): return Array(bytes.prefix(n))
        case .tail(let n): return Array(bytes.suffix(n))
        case .headTail(let n):
            guard bytes.count > n else { return bytes }
            return Array(bytes.prefix(n / 2)) + Array(bytes.suffix(n - n / 2))
        }
    }
}
