import Yagna

/// How this exe-unit answers a `run`'s `capture`: `stream` sends the output as it comes to whoever
/// streams the batch (``RuntimeEventHub``) and keeps its first `limit` bytes for the result, as the
/// exe-unit does; a `run` without `capture` returns both streams whole
/// (``ExeScriptCommand/Capture/whole``), which is what golem-js asks for explicitly.
extension ExeScriptCommand.Capture.Mode {
    /// The part of the output returned.
    var part: ExeScriptCommand.Capture.Part {
        switch self {
        case .atEnd(let part, _): part
        case .stream(let limit, _): limit.map(ExeScriptCommand.Capture.Part.head) ?? .all
        }
    }

    var isBinary: Bool { format == .bin }
}

extension ExeScriptCommand.Capture.Part {
    /// The kept part of `bytes`.
    func cut(_ bytes: [UInt8]) -> [UInt8] {
        switch self {
        case .all: return bytes
        case .head(let n): return Array(bytes.prefix(n))
        case .tail(let n): return Array(bytes.suffix(n))
        case .headTail(let n):
            guard bytes.count > n else { return bytes }
            return Array(bytes.prefix(n / 2)) + Array(bytes.suffix(n - n / 2))
        }
    }
}
