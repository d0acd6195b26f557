import Yagna

/// How this exe-unit answers a `run`'s `capture`: `stream` like `atEnd` with the whole output (it has
/// no streaming results), and a `run` without `capture` with both streams whole
/// (``ExeScriptCommand/Capture/whole``), which is what golem-js asks for explicitly.
extension ExeScriptCommand.Capture.Mode {
    /// The part of the output returned.
    var part: ExeScriptCommand.Capture.Part {
        switch self {
        case .atEnd(let part, _): part
        case .stream: .all
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
