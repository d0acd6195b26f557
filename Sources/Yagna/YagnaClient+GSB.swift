/// yagna's GSB API: binding services that this client then serves on a WebSocket
/// (docs/notes/yagna-requestor-api.md §6).
extension YagnaClient {
    private struct Bind: Encodable {
        struct Listen: Encodable { var on: String; var components: [String] }
        var listen: Listen
    }
    private struct Bound: Decodable { var servicesId: String }

    /// Binds `components` under `address` (e.g. `/public/gftp/<id>`); returns the services id whose
    /// WebSocket (`/gsb-api/v1/services/<id>`) receives the calls. yagna buffers calls until it opens.
    public func bindServices(on address: String, components: [String]) async throws -> String {
        try await json(.POST, "/gsb-api/v1/services", body: Bind(listen: .init(on: address, components: components)), as: Bound.self).servicesId
    }

    /// Unbinds the services and closes their WebSocket.
    public func unbindServices(_ servicesId: String) async throws {
        try await send(.DELETE, "/gsb-api/v1/services/\(servicesId)")
    }
}
