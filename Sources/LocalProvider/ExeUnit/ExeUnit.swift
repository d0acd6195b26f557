import AsyncHTTPClient
import FlexBuffers
import Foundation
import Logging
import Sandbox
import Yagna

/// One activity's exe-unit: its work directory, its batches run one command after another in the
/// Sandbox (`/golem/work` bound read-write), their results kept until the activity is destroyed,
/// and its usage for payments.
///
/// Commands run on the Sandbox's own threads; this actor only keeps state. Results are bounded:
/// each `run` keeps at most `outputLimit` bytes of stdout and of stderr.
public actor ExeUnit {
    public nonisolated let activityId: String
    public nonisolated let agreementId: String
    public nonisolated let workDirectory: String
    private let configuration: ProviderConfiguration
    private let sandbox: Sandbox
    /// The activity's own sandbox, where its commands run one after another; nil: a fresh one each.
    private let warm: WarmSandbox?
    /// Gives the sandbox or the work directory back when the activity is destroyed.
    private let release: @Sendable () async -> Void
    private let http: HTTPClient
    private let logger: Logger
    /// Reports a new state to yagna (PUT state).
    private let reportState: @Sendable (ActivityState) async -> Void
    /// The running batches' events, for `StreamExecBatchResults`.
    private nonisolated let hub = RuntimeEventHub()

    public private(set) var state: ActivityState = .initialized
    private var environment: [String: String] = [:]
    private var batches: [String: BatchResults] = [:]
    private var scripts: [String: [ExeScriptCommand]] = [:]
    private var running: [String: (index: Int, command: ExeScriptCommand)] = [:]
    private var tasks: [String: Task<Void, Never>] = [:]
    private var waiters: [UUID: (batchId: String, commandIndex: Int?, continuation: CheckedContinuation<Void, Never>)] = [:]
    private let created = ContinuousClock.now
    private var ended: ContinuousClock.Instant?
    private var cpu: Duration = .zero
    private var released = false

    /// `warm`, when given, runs every command (its work directory is `workDirectory`); `release` is
    /// called once, when the activity is destroyed.
    public init(
        activityId: String, agreementId: String, workDirectory: String, configuration: ProviderConfiguration,
        sandbox: Sandbox? = nil, warm: WarmSandbox? = nil, release: (@Sendable () async -> Void)? = nil,
        http: HTTPClient = .shared, logger: Logger, reportState: @escaping @Sendable (ActivityState) async -> Void
    ) {
        self.activityId = activityId
        self.agreementId = agreementId
        self.workDirectory = workDirectory
        self.configuration = configuration
        let sandbox = sandbox ?? Sandbox(configuration: configuration.sandbox)
        self.sandbox = sandbox
        self.warm = warm
        self.release = release ?? { await sandbox.releaseWorkDirectory(workDirectory) }
        self.http = http
        var logger = logger
        logger[metadataKey: "activity.id"] = "\(activityId)"
        logger[metadataKey: "agreement.id"] = "\(agreementId)"
        self.logger = logger
        self.reportState = reportState
    }

    // MARK: - Requests

    /// `Exec`: stores the batch and starts it; returns its id at once.
    public func exec(batchId: String, script: [ExeScriptCommand]) throws(ExeUnitError) -> String {
        guard state != .terminated else { throw .activity("activity \(activityId) is terminated") }
        guard !batchId.isEmpty else { throw .badRequest("batchId is empty") }
        guard batches[batchId] == nil else { throw .badRequest("batch \(batchId) already exists") }
        batches[batchId] = BatchResults(commandCount: script.count)
        scripts[batchId] = script
        logger.info("batch started", metadata: ["batch.id": "\(batchId)", "batch.commands": "\(script.map(\.name).joined(separator: ","))"])
        tasks[batchId] = Task { await self.runBatch(batchId, script) }
        return batchId
    }

    /// `GetExecBatchResults`: waits up to `timeout` until `commandIndex` (nil: the last command) has
    /// a result or the batch finished. Past the wait, a request for a given index fails with
    /// `Timeout` and one without returns what there is, as the exe-unit does.
    public func results(batchId: String, commandIndex: Int?, timeout: Duration) async throws(ExeUnitError) -> [ExeScriptCommandResult] {
        guard let batch = batches[batchId] else { throw .notFound("batch_id = \(batchId)") }
        if let commandIndex, commandIndex < 0 || commandIndex >= batch.commandCount {
            throw .badRequest("commandIndex \(commandIndex) is outside the batch of \(batch.commandCount)")
        }
        if !batch.isReady(for: commandIndex), timeout > .zero {
            let id = UUID()
            let timer = Task { [weak self] in
                try? await Task.sleep(for: timeout)
                await self?.wake(id)
            }
            await withCheckedContinuation { continuation in
                waiters[id] = (batchId, commandIndex, continuation)
            }
            timer.cancel()
        }
        guard let batch = batches[batchId] else { throw .notFound("batch_id = \(batchId)") }
        if !batch.isReady(for: commandIndex), commandIndex != nil { throw .timeout }
        return batch.answer(for: commandIndex)
    }

    /// `StreamExecBatchResults`: the batch's events from now until it ends; an ended stream for a
    /// batch that is over.
    public func events(batchId: String) throws(ExeUnitError) -> AsyncStream<FlexValue> {
        guard batches[batchId] != nil else { throw .notFound("batch_id = \(batchId)") }
        return tasks[batchId] == nil ? RuntimeEventHub.ended() : hub.subscribe(batchId)
    }

    /// `GetRunningCommand`: what runs now, as `ExeScriptCommandState`s.
    public func runningCommands() throws(ExeUnitError) -> [(batchId: String, command: String)] {
        let now = running.map { (batchId: $0.key, command: $0.value.command.name) }
        guard !now.isEmpty else { throw .notFound("No running command within activity: \(activityId)") }
        return now
    }

    /// Usage so far: CPU seconds are the wall time of `run` commands (the Sandbox reports no
    /// rusage), duration is the activity's age.
    public func usage() -> Usage {
        let age = (ended ?? ContinuousClock.now) - created
        return Usage(cpuSeconds: Usage.seconds(cpu), durationSeconds: Usage.seconds(age))
    }

    /// Destroys the activity: kills what runs, finishes every batch, removes the work directory.
    /// Idempotent.
    public func destroy() async {
        if state != .terminated { state = .terminated }
        if ended == nil { ended = .now }
        let running = tasks.values
        tasks.removeAll()
        for task in running { task.cancel() }
        for task in running { await task.value }
        for id in batches.keys { batches[id]?.interrupt(message: "activity destroyed") }
        wakeAll()
        guard !released else { return }
        released = true
        await release()
        logger.info("activity destroyed; its sandbox reset or work directory removed")
    }

    // MARK: - Running

    private func runBatch(_ batchId: String, _ script: [ExeScriptCommand]) async {
        for (index, command) in script.enumerated() {
            if Task.isCancelled { break }
            running[batchId] = (index, command)
            hub.emit(batchId, index: index, RuntimeEvents.started(Self.flex(command)))
            let result = await execute(command, index: index, batchId: batchId)
            running[batchId] = nil
            if Task.isCancelled { break }
            batches[batchId]?.append(result)
            hub.emit(batchId, index: index, RuntimeEvents.finished(returnCode: Self.returnCode(of: result), message: result.message))
            wakeAll()
            if result.isError {
                logger.info("batch stopped at a failed command", metadata: ["batch.id": "\(batchId)", "command.index": "\(index)", "command.message": "\(result.message ?? "")"])
                break
            }
        }
        tasks[batchId] = nil
        hub.end(batchId)
        logger.debug("batch ended", metadata: ["batch.id": "\(batchId)"])
    }

    /// A command as serde lays it out (the JSON the requestor sent, read as FlexBuffers values).
    static func flex(_ command: ExeScriptCommand) -> FlexValue {
        (try? JSONDecoder().decode(FlexValue.self, from: JSONEncoder().encode(command))) ?? .null
    }

    /// A finished command's return code: a `run`'s exit code, 0 for any other command that
    /// succeeded, 1 for one that failed.
    static func returnCode(of result: ExeScriptCommandResult) -> Int32 {
        guard result.isError else { return 0 }
        let prefix = "ExeScript command exited with code "
        if let message = result.message, message.hasPrefix(prefix), let code = Int32(message.dropFirst(prefix.count)) { return code }
        return 1
    }

    private func execute(_ command: ExeScriptCommand, index: Int, batchId: String) async -> ExeScriptCommandResult {
        if let required = ActivityState.required(for: command), state != required {
            return .failed(index, "\(command.name) is not allowed in state \(state.rawValue) (needs \(required.rawValue))")
        }
        switch command {
        case .deploy(let env):
            environment = env
            await setState(.deployed)
            return .ok(index, stdout: .text(""))
        case .start:
            await setState(.ready)
            return .ok(index, stdout: .text(""))
        case .run(let entryPoint, let args, let capture):
            return await run(entryPoint, args, capture ?? .whole, index: index, batchId: batchId)
        case .transfer(let from, let to):
            do {
                try await Transfer(
                    workDirectory: workDirectory, sandbox: sandbox, http: http, limit: configuration.transferLimit,
                    gsbURL: configuration.gsbURL, faults: configuration.injectedFaults, logger: logger
                )
                    .copy(from: from, to: to)
                return .ok(index)
            } catch {
                return .failed(index, "transfer from \(from) to \(to) failed: \(error)")
            }
        case .terminate:
            return .ok(index)
        }
    }

    private func run(_ entryPoint: String, _ args: [String], _ capture: ExeScriptCommand.Capture, index: Int, batchId: String) async -> ExeScriptCommandResult {
        if let refusal = Self.entryPointRefusal(entryPoint) { return .failed(index, refusal) }
        let command = SandboxCommand(
            executable: entryPoint, arguments: args, environment: environment, workDirectory: workDirectory,
            limits: configuration.limits, outputLimit: configuration.outputLimit
        )
        let started = ContinuousClock.now
        defer { cpu += ContinuousClock.now - started }
        do {
            var onOutput: SandboxOutputHandler?
            if let emit = hub.outputHandler(batchId: batchId, index: index, capture: capture) {
                onOutput = { stream, bytes, _ in emit(stream == 2, bytes) }
            }
            let result = if let warm {
                try await warm.run(command, logger: logger, onOutput: onOutput)
            } else {
                try await sandbox.run(command, logger: logger, onOutput: onOutput)
            }
            logger.debug("run ended", metadata: ["command.index": "\(index)", "command.exit": "\(result.exitCode)"])
            return .run(
                index: index, exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr,
                capture: capture, timedOut: result.timedOut
            )
        } catch is CancellationError {
            return .failed(index, "command killed: activity destroyed")
        } catch {
            return .failed(index, "cannot run \(entryPoint): \(error)")
        }
    }

    /// A VM's init starts `entry_point` with execve: a bare name is not looked up on PATH (bwrap,
    /// which runs our commands, would), so `python3` fails there as here. A path with a slash runs.
    static func entryPointRefusal(_ entryPoint: String) -> String? {
        guard !entryPoint.contains("/") else { return nil }
        return "cannot run \(entryPoint): No such file or directory (os error 2): the VM starts entry_point with execve, "
            + "which does no PATH lookup; give an absolute path or run it through /bin/sh -c"
    }

    private func setState(_ new: ActivityState) async {
        state = new
        await reportState(new)
    }

    // MARK: - Waiters

    private func wake(_ id: UUID) {
        waiters.removeValue(forKey: id)?.continuation.resume()
    }

    private func wakeAll() {
        for (id, waiter) in waiters where batches[waiter.batchId]?.isReady(for: waiter.commandIndex) ?? true || state == .terminated {
            waiters.removeValue(forKey: id)
            waiter.continuation.resume()
        }
    }
}
