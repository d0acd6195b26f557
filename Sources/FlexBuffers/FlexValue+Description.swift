extension FlexValue: CustomStringConvertible {
    /// JSON-like text for logs and test failures; a blob shows as `blob(<hex>)`.
    public var description: String {
        var out = ""
        write(to: &out)
        return out
    }

    private func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .uint(let u): out += String(u)
        case .double(let d): out += String(d)
        case .string(let s): Self.writeQuoted(s, to: &out)
        case .blob(let bytes):
            out += "blob("
            for byte in bytes {
                if byte < 16 { out += "0" }
                out += String(byte, radix: 16)
            }
            out += ")"
        case .vector(let elements):
            out += "["
            for (i, element) in elements.enumerated() {
                if i > 0 { out += ", " }
                element.write(to: &out)
            }
            out += "]"
        case .map(let entries):
            out += "{"
            for (i, entry) in entries.enumerated() {
                if i > 0 { out += ", " }
                Self.writeQuoted(entry.key, to: &out)
                out += ": "
                entry.value.write(to: &out)
            }
            out += "}"
        }
    }

    private static func writeQuoted(_ s: String, to out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += "\\u00" + (scalar.value < 16 ? "0" : "") + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
