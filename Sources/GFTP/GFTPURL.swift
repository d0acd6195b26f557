/// `gftp://<node id>/<file id>`: a file a node serves at `/public/gftp/<file id>` on its bus.
public struct GFTPURL: Equatable, Sendable, CustomStringConvertible {
    /// `0x` and 40 hex digits.
    public var nodeId: String
    public var fileId: String

    public init(nodeId: String, fileId: String) {
        self.nodeId = nodeId
        self.fileId = fileId
    }

    /// nil unless `text` is `gftp://0x<40 hex>/<id>` with an id of letters, digits, `-` and `_`.
    public init?(_ text: String) {
        guard text.hasPrefix("gftp://") else { return nil }
        let parts = text.dropFirst("gftp://".count).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        let node = parts[0].lowercased(), file = String(parts[1])
        guard node.hasPrefix("0x"), node.count == 42, node.dropFirst(2).allSatisfy(\.isHexDigit),
              !file.isEmpty, file.count <= 128, file.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        else { return nil }
        self.init(nodeId: node, fileId: file)
    }

    public var description: String { "gftp://\(nodeId)/\(fileId)" }

    /// Where the serving node binds the file's components (`/public/gftp/<id>/GetChunk`...).
    public var serviceAddress: String { "/public/gftp/\(fileId)" }

    /// Where another node's exe-unit calls them: yagna's net forwards `/transfer/net/<node>/...` to
    /// that node's `/public/...` (`NodeId::service_transfer` in ya-core-model).
    public func callAddress(_ component: String) -> String { "/transfer/net/\(nodeId)/gftp/\(fileId)/\(component)" }
}
