import FlexBuffers
import Foundation
import GFTP
import Logging
import Resilience
import Synchronization
import Yagna

/// Serves one activity's exe-unit on its node's service bus as a real exe-unit does: a TCP
/// connection to the node's GSB router (`gsbURL`) that registers `/public/exeunit/<activityId>`,
/// answers each call in its own task (a `GetExecBatchResults` may wait; a `StreamExecBatchResults`
/// streams until its batch ends) and, when the connection drops (yagna restarted), connects and
/// registers again with backoff. Closing the connection (cancelling ``serve(registered:)``)
/// unregisters the address.
///
/// yagna's REST GSB API (a WebSocket) could bind the address too, but answers every call exactly
/// once (`core/gsb-api`, v0.17.6), so a streamed batch could not reach the requestor.
public struct GSBSession: Sendable {
    let exeUnit: ExeUnit
    let gsbURL: String
    let logger: Logger
    /// Largest packet in: an `Exec` with an upload's base64 travels in one.
    let maxPacket: Int

    public init(exeUnit: ExeUnit, gsbURL: String, maxPacket: Int, logger: Logger) {
        self.exeUnit = exeUnit
        self.gsbURL = gsbURL
        self.maxPacket = maxPacket
        self.logger = logger
    }

    /// The address this exe-unit serves.
    public var address: String { "/public/exeunit/\(exeUnit.activityId)" }

    /// Serves until cancelled. `registered` is told, once, whether the first registration worked (it
    /// must, before the activity is reported Initialized); when it did not, this returns at once.
    public func serve(registered: @escaping @Sendable ((any Error)?) -> Void) async {
        let pending = Mutex<(@Sendable ((any Error)?) -> Void)?>(registered)
        /// Tells `registered` the first outcome only; true when this was it.
        @Sendable func tell(_ outcome: (any Error)?) -> Bool {
            guard let told = pending.withLock({ value in defer { value = nil }; return value }) else { return false }
            told(outcome)
            return true
        }
        var backoff = Backoff().pauses()
        while !Task.isCancelled {
            let opened = ContinuousClock.now
            do {
                try await connect { _ = tell(nil) }
                if Task.isCancelled { return }
                logger.info("GSB connection closed; connecting again", metadata: ["gsb.address": "\(address)"])
                // A connection that lasted is a fresh start; one closed at once waits its turn.
                if ContinuousClock.now - opened > .seconds(10) { backoff.reset() }
                try? await Task.sleep(for: backoff.next())
            } catch {
                if tell(error) { return }
                if Task.isCancelled { return }
                logger.warning("GSB connection failed; connecting again", metadata: ["gsb.address": "\(address)", "error": "\(error)"])
                try? await Task.sleep(for: backoff.next())
            }
        }
        _ = tell(CancellationError())
    }

    /// One connection: registers, tells `onRegistered`, and serves until the router closes it.
    private func connect(onRegistered: @escaping @Sendable () -> Void) async throws {
        let exeUnit = self.exeUnit
        let logger = self.logger
        try await GSBBus.withConnection(to: gsbURL, name: "golem-bridge-exe-unit", maxPacket: maxPacket, logger: logger) { call, replier in
            try await Self.answer(call, replier: replier, exeUnit: exeUnit, logger: logger)
        } _: { [address] bus in
            try await bus.register(address)
            onRegistered()
            await bus.untilClosed()
        }
    }

    /// Answers one call: `{"Ok": value}` or `{"Err": {Variant: message}}`, serde's `Result`, in
    /// FlexBuffers; a stream's items the same way, then the end of the stream.
    static func answer(_ call: GSBIncomingCall, replier: GSBReplier, exeUnit: ExeUnit, logger: Logger) async throws -> [UInt8] {
        let encoder = FlexBuffersEncoder(shareKeys: false)
        let payload: FlexValue
        do { payload = try FlexBuffersDecoder().decode(call.data) } catch {
            throw GSBServiceFailure(.badRequest, "\(call.messageName): the request is not FlexBuffers: \(error)")
        }
        let name = String(call.messageName)
        if name == "StreamExecBatchResults" {
            return try await stream(payload, replier: replier, exeUnit: exeUnit, encoder: encoder)
        }
        let reply: FlexValue
        do {
            reply = GSBMessages.ok(try await handle(name, payload, exeUnit: exeUnit))
        } catch let error as ExeUnitError {
            logger.debug("exe-unit request refused", metadata: ["gsb.message": "\(name)", "error": "\(error)"])
            reply = GSBMessages.err(error)
        } catch {
            reply = GSBMessages.err(.service("\(error)"))
        }
        return try encoder.encode(reply)
    }

    /// `StreamExecBatchResults {activity_id, batch_id}`: the batch's `RuntimeEvent`s from now until it
    /// ends, each a partial reply. An unknown batch is refused as a bad request, as the exe-unit does.
    static func stream(_ payload: FlexValue, replier: GSBReplier, exeUnit: ExeUnit, encoder: FlexBuffersEncoder) async throws -> [UInt8] {
        if let activity = payload["activity_id"]?.stringValue, activity != exeUnit.activityId {
            throw GSBServiceFailure(.badRequest, "this exe-unit serves activity \(exeUnit.activityId), not \(activity)")
        }
        guard let batchId = payload["batch_id"]?.stringValue else {
            throw GSBServiceFailure(.badRequest, "StreamExecBatchResults without batch_id")
        }
        let events: AsyncStream<FlexValue>
        do { events = try await exeUnit.events(batchId: batchId) } catch {
            throw GSBServiceFailure(.badRequest, "Unknown batch: \(batchId)")
        }
        for await event in events {
            try await replier.partial(try encoder.encode(GSBMessages.ok(event)))
        }
        return []
    }

    static func handle(_ name: String, _ payload: FlexValue, exeUnit: ExeUnit) async throws -> FlexValue {
        if let activity = payload["activityId"]?.stringValue, activity != exeUnit.activityId {
            throw ExeUnitError.badRequest("this exe-unit serves activity \(exeUnit.activityId), not \(activity)")
        }
        switch name {
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
            throw ExeUnitError.badRequest("\(name) is not served by this exe-unit")
        }
    }
}
