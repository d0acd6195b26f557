import FlexBuffers
import Foundation
import GFTP
import Logging
import Resilience
import Yagna

/// Serves one activity's exe-unit on yagna's GSB WebSocket API: binds `/public/exeunit/<activityId>`,
/// keeps the WebSocket open (re-binding and reconnecting with backoff when yagna restarts), answers
/// each request in its own task (a `GetExecBatchResults` may wait), and unbinds at the end.
public struct GSBSession: Sendable {
    let api: ProviderAPI
    let exeUnit: ExeUnit
    let apiURL: String
    let appKey: String
    let logger: Logger
    /// Largest frame in or out: a `run`'s captured output travels in one reply.
    let maxFrameSize: Int

    public init(api: ProviderAPI, exeUnit: ExeUnit, maxFrameSize: Int, logger: Logger) {
        self.api = api
        self.exeUnit = exeUnit
        self.apiURL = api.client.configuration.apiURL
        self.appKey = api.client.configuration.appKey
        self.maxFrameSize = maxFrameSize
        self.logger = logger
    }

    /// Binds the services and returns their id (before the activity is reported Initialized, so a
    /// requestor's first `exec` finds them; yagna buffers requests until the socket opens).
    public func bind() async throws -> String {
        try await api.bindServices(on: "/public/exeunit/\(exeUnit.activityId)", components: GSBMessages.components)
    }

    /// Serves until cancelled. `servicesId` is the first binding; a lost binding is replaced.
    public func serve(servicesId first: String, onRebind: @escaping @Sendable (String) async -> Void) async {
        var servicesId = first
        var backoff = Backoff().pauses()
        while !Task.isCancelled {
            do {
                try await connect(servicesId)
                backoff.reset()
                if Task.isCancelled { return }
                logger.debug("GSB WebSocket closed; reconnecting", metadata: ["gsb.services": "\(servicesId)"])
            } catch {
                if Task.isCancelled { return }
                logger.warning("GSB WebSocket failed; re-binding", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: backoff.next())
                if Task.isCancelled { return }
                try? await api.unbindServices(servicesId)
                if let again = try? await bind() {
                    servicesId = again
                    await onRebind(again)
                }
            }
        }
    }

    private func connect(_ servicesId: String) async throws {
        let exeUnit = self.exeUnit
        let logger = self.logger
        try await GSBWebSocket.serve(apiURL: apiURL, appKey: appKey, servicesId: servicesId, maxFrameSize: maxFrameSize, logger: logger) { request in
            await Self.answer(request, exeUnit: exeUnit, logger: logger)
        }
    }

    /// Runs one request and makes its reply.
    static func answer(_ request: GSBRequest, exeUnit: ExeUnit, logger: Logger) async -> FlexValue {
        do {
            return request.reply(try await handle(request, exeUnit: exeUnit))
        } catch let error as ExeUnitError {
            logger.debug("exe-unit request refused", metadata: ["gsb.component": "\(request.component)", "error": "\(error)"])
            return GSBMessages.reply(to: request, error: error)
        } catch {
            return GSBMessages.reply(to: request, error: .service("\(error)"))
        }
    }

    static func handle(_ request: GSBRequest, exeUnit: ExeUnit) async throws -> FlexValue {
        let payload = request.payload
        if let activity = payload["activityId"]?.stringValue, activity != exeUnit.activityId {
            throw ExeUnitError.badRequest("this exe-unit serves activity \(exeUnit.activityId), not \(activity)")
        }
        switch request.component {
        case "Exec":
            guard let batchId = payload["batchId"]?.stringValue, let script = payload["exeScript"] else {
                throw ExeUnitError.badRequest("Exec without batchId or exeScript")
            }
            let commands: [ExeScriptCommand]
            do { commands = try GSBMessages.script(script) } catch {
                throw ExeUnitError.badRequest(error.message)
            }
            return .string(try await exeUnit.exec(batchId: batchId, script: commands))
        case "GetExecBatchResults":
            guard let batchId = payload["batchId"]?.stringValue else { throw ExeUnitError.badRequest("GetExecBatchResults without batchId") }
            let seconds = min(max(payload["timeout"]?.doubleValue ?? 0, 0), 3600)
            let index = payload["commandIndex"]?.intValue
            let results = try await exeUnit.results(batchId: batchId, commandIndex: index, timeout: .seconds(saturating: seconds))
            return GSBMessages.results(results)
        case "GetRunningCommand":
            return GSBMessages.running(try await exeUnit.runningCommands())
        case "GetActivityState":
            return GSBMessages.state(await exeUnit.state)
        default:
            throw ExeUnitError.badRequest("\(request.component) is not served by this exe-unit")
        }
    }
}
