import FlexBuffers
import Foundation
import GFTP

extension LocalProviderService {
    /// Checks that `--gsb-url` is the service bus of the node whose API this agent uses: its exe-units
    /// register there, and on another node's bus no requestor would ever reach them (every `Exec` fails
    /// with "endpoint address not found"). Asks the bus's identity service (`/local/identity/Get`) for
    /// its node. An unreachable bus stops the start; an answer this check cannot read is logged and
    /// let go, so a different yagna cannot lock the agent out.
    func checkServiceBus(identity: String) async throws {
        let url = configuration.gsbURL
        let reply: [UInt8]
        do {
            reply = try await withThrowingTaskGroup(of: [UInt8]?.self) { group in
                group.addTask { [logger] in
                    try await GSBBus.withConnection(to: url, logger: logger) { bus in
                        try await bus.call("/local/identity/Get", data: try FlexBuffersEncoder(shareKeys: false).encode(.string("byDefault")))
                    }
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(10))
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let answer = first else {
                    throw ServiceBusError("the service bus at \(url) (--gsb-url) did not answer within 10 s")
                }
                return answer
            }
        } catch let error as GSBCallError where error.kind != .connection {
            logger.warning("the service bus did not say which node it is; not checked", metadata: ["gsb.url": "\(url)", "error": "\(error)"])
            return
        } catch let error as ServiceBusError {
            throw error
        } catch {
            throw ServiceBusError("cannot reach the provider node's service bus at \(url) (--gsb-url, its GSB_URL): \(error)")
        }
        guard let node = Self.nodeId(identityReply: reply) else {
            logger.warning("the service bus's identity answer is not readable; not checked", metadata: ["gsb.url": "\(url)"])
            return
        }
        guard node.lowercased() == identity.lowercased() else {
            throw ServiceBusError(
                "the service bus at \(url) (--gsb-url) is node \(node)'s, but the API at \(configuration.yagna.apiURL) is node \(identity)'s: "
                    + "exe-units registered there would never be called; give the provider node's own GSB_URL"
            )
        }
    }

    /// The node id in `/local/identity/Get`'s reply, `{"Ok": {"nodeId": …}}`: a `0x…` string, or its
    /// 20 bytes.
    static func nodeId(identityReply bytes: [UInt8]) -> String? {
        guard let value = try? FlexBuffersDecoder().decode(bytes), let node = value["Ok"]?["nodeId"] else { return nil }
        if let text = node.stringValue { return text }
        if let raw = node.bytesValue ?? node.vectorValue?.compactMap({ $0.uintValue.flatMap { UInt8(exactly: $0) } }), raw.count == 20 {
            return "0x" + raw.map { String(format: "%02x", $0) }.joined()
        }
        return nil
    }
}

/// The agent cannot serve exe-units: its service bus is unreachable or another node's.
struct ServiceBusError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
