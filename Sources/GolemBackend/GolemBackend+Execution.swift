import Foundation
import GolemJobs
import Logging
import Synchronization
import Yagna

extension GolemBackend {
    /// Runs one step on the lease's activity and reads its result.
    ///
    /// With `cleanAfter` (the job's last step), a `run` step's batch ends with emptying the work
    /// folder, after the job's command: the rental is then ready for the next job without a batch of
    /// its own. `cleaned` says whether that ran (not after a failed command, nor for other steps:
    /// then ``giveBack(_:healthy:cleaned:)`` cleans in the background).
    ///
    /// With `output`, a `run` step with `stream` set captures in stream mode (at most
    /// ``GolemBackendConfiguration/outputLimit`` bytes per stream, the result marked truncated at it)
    /// and tells `output` the pieces yagna streams while it runs (``runBatch(_:on:timeout:provider:watch:)``).
    func execute(
        _ step: WorkStep, index: Int, on lease: Lease, cleanAfter: Bool = false, output: StepOutputSink? = nil, logger: Logger
    ) async throws -> (result: StepResult, cleaned: Bool) {
        let label = "step \(index) (\(step.kind.rawValue))"
        switch step {
        case .uploadData(let to, let bytes), .uploadJson(let to, let bytes):
            guard bytes.count <= configuration.transferLimit else {
                throw JobError(.invalidRequest, "\(label): \(bytes.count) bytes exceed the upload limit of \(configuration.transferLimit)", step: index)
            }
            try await upload(bytes, to: to, label: label, index: index, on: lease, logger: logger)
            return (StepResult(index: index, kind: step.kind), false)
        case .downloadData(let from), .downloadJson(let from):
            let bytes = try await download(from, label: label, index: index, on: lease, logger: logger)
            return (StepResult(index: index, kind: step.kind, data: bytes), false)
        case .run, .transfer:
            break
        }
        var watch: OutputWatch?
        if case .run(let run) = step, run.stream, let output {
            watch = OutputWatch(index: 0, limit: configuration.outputLimit, sink: output, logger: logger)
        }
        let commands = StepScript.commands(for: step, streamLimit: watch?.limit)
        let trailing = cleanAfter && step.kind == .run ? [StepScript.emptyWorkFolder] : []
        var results = try await runInBatches(commands + trailing, on: lease, watch: watch)
        var cleaned = false
        if results.count > commands.count {
            cleaned = !results[commands.count].isError
            results.removeLast(results.count - commands.count)
        }
        let failed = results.first(where: \.isError)
        let last = results.last
        if case .transfer = step {
            if let failed { throw JobError(.commandFailed, "\(label) failed on provider \(lease.provider.name): \(Self.cause(of: failed))", step: index) }
            guard results.count == commands.count else {
                throw JobError(.providerFailed, "\(label): provider \(lease.provider.name) returned \(results.count) of \(commands.count) results", step: index)
            }
            return (StepResult(index: index, kind: step.kind), cleaned)
        }
        guard let last, results.count == commands.count || failed != nil else {
            throw JobError(.providerFailed, "\(label): provider \(lease.provider.name) returned no result", step: index)
        }
        let exitCode: Int32 = failed == nil ? 0 : (StepScript.exitCode(fromMessage: failed?.message) ?? 1)
        var stderr = StepScript.bytes(of: last.stderr)
        if failed != nil, StepScript.exitCode(fromMessage: failed?.message) == nil, let message = failed?.message {
            stderr += Array((stderr.isEmpty ? message : "\n" + message).utf8)
        }
        var stdout = StepScript.bytes(of: last.stdout)
        var cut = (stdout: false, stderr: false)
        if let limit = watch?.limit {
            // A provider that keeps more than the stream capture's limit is cut here, as one that
            // keeps exactly the limit most likely cut it.
            cut = (stdout.count >= limit, stderr.count >= limit)
            stdout = Array(stdout.prefix(limit))
            stderr = Array(stderr.prefix(limit))
        }
        let result = StepResult.run(
            index: index, exitCode: exitCode, stdout: stdout, stderr: stderr, stdoutTruncated: cut.stdout, stderrTruncated: cut.stderr
        )
        return (result, cleaned)
    }

    /// Runs commands in batches of at most 8 (large uploads: ≈ 768 KiB of base64 per exec call),
    /// stopping at the first batch with an error or missing results. `watch` names a command of the
    /// first batch.
    func runInBatches(_ commands: [ExeScriptCommand], on lease: Lease, watch: OutputWatch? = nil) async throws -> [ExeScriptCommandResult] {
        var results: [ExeScriptCommandResult] = []
        var start = 0
        while start < commands.count {
            let slice = Array(commands[start..<min(start + 8, commands.count)])
            let batch = try await runBatch(slice, on: lease.activityId, timeout: nil, provider: lease.provider, watch: start == 0 ? watch : nil)
            results += batch
            if batch.contains(where: \.isError) || batch.count < slice.count { break }
            start += slice.count
        }
        return results
    }

    /// Over stdout (``FileTransfers/verifiedStdout``): writes the file in chunks, then has the provider measure it: size and SHA-256 must be what was
    /// sent, else the whole file is written again, up to ``VerifiedTransfer/attempts`` times.
    func upload(_ bytes: [UInt8], to path: String, label: String, index: Int, on lease: Lease, logger: Logger) async throws {
        if configuration.fileTransfers == .gftp {
            return try await uploadByGFTP(bytes, to: path, label: label, index: index, on: lease, logger: logger)
        }
        let commands = StepScript.upload(bytes, to: path) + [VerifiedTransfer.digestCommand(of: path)]
        let sent = FileDigest(of: bytes)
        for attempt in 1...VerifiedTransfer.attempts {
            let results = try await runInBatches(commands, on: lease)
            if let failed = results.first(where: \.isError) {
                throw JobError(.commandFailed, "\(label) failed on provider \(lease.provider.name): \(Self.cause(of: failed))", step: index)
            }
            guard results.count == commands.count else {
                throw JobError(.providerFailed, "\(label): provider \(lease.provider.name) returned \(results.count) of \(commands.count) results", step: index)
            }
            let written = VerifiedTransfer.parseDigest(results.last?.stdout?.string)
            if written == sent { return }
            let got = written?.description ?? "no size and hash (\(results.last?.stdout?.string.prefix(80) ?? ""))"
            guard attempt < VerifiedTransfer.attempts else {
                throw JobError(.providerFailed, "\(label): \(path) on provider \(lease.provider.name) is not what was sent after \(attempt) attempts: expected \(sent), got \(got)", step: index)
            }
            logger.info("an upload arrived altered; writing it again", metadata: ["path": "\(path)", "expected": "\(sent)", "got": "\(got)"])
        }
    }

    /// Over stdout (``FileTransfers/verifiedStdout``): measures the file on the provider, reads it range by range (a short range is read again, up
    /// to ``VerifiedTransfer/attempts`` times) and checks the whole file's SHA-256; a file that does
    /// not match is read again whole, as many times, then the step fails naming both digests.
    func download(_ path: String, label: String, index: Int, on lease: Lease, logger: Logger) async throws -> [UInt8] {
        if configuration.fileTransfers == .gftp {
            return try await downloadByGFTP(path, label: label, index: index, on: lease, logger: logger)
        }
        let provider = lease.provider.name
        let measured = try await runBatch([VerifiedTransfer.digestCommand(of: path)], on: lease.activityId, timeout: nil, provider: lease.provider)
        if let failed = measured.first(where: \.isError) {
            throw JobError(.commandFailed, "\(label): cannot read \(path): \(Self.cause(of: failed))", step: index)
        }
        guard let expected = VerifiedTransfer.parseDigest(measured.first?.stdout?.string) else {
            throw JobError(.providerFailed, "\(label): provider \(provider) reported no size and hash of \(path) (is sha256sum in the image?)", step: index)
        }
        guard expected.size <= configuration.transferLimit else {
            throw JobError(.commandFailed, "\(label): \(path) is larger than the download limit of \(configuration.transferLimit) bytes", step: index)
        }
        for attempt in 1...VerifiedTransfer.attempts {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(expected.size)
            for range in VerifiedTransfer.ranges(size: expected.size) {
                bytes += try await readRange(range, of: path, label: label, index: index, on: lease, logger: logger)
            }
            let got = FileDigest(of: bytes)
            if got == expected { return bytes }
            guard attempt < VerifiedTransfer.attempts else {
                throw JobError(.providerFailed, "\(label): \(path) from provider \(provider) does not match its hash after \(attempt) attempts: expected \(expected), got \(got)", step: index)
            }
            logger.info("a download arrived altered; reading it again", metadata: ["path": "\(path)", "expected": "\(expected)", "got": "\(got)"])
        }
        preconditionFailure("the loop returns or throws")
    }

    /// One range of a download, in one batch of its own so one response stays bounded.
    private func readRange(_ range: Range<Int>, of path: String, label: String, index: Int, on lease: Lease, logger: Logger) async throws -> [UInt8] {
        for attempt in 1...VerifiedTransfer.attempts {
            let results = try await runBatch([VerifiedTransfer.readCommand(of: path, range: range)], on: lease.activityId, timeout: nil, provider: lease.provider)
            if let failed = results.first(where: \.isError) {
                throw JobError(.commandFailed, "\(label): cannot read \(path): \(Self.cause(of: failed))", step: index)
            }
            let got: String
            switch VerifiedTransfer.checkChunk(results.first?.stdout?.string, range: range) {
            case .bytes(let bytes): return bytes
            case .short(let count): got = "\(count) bytes"
            case .notBase64(let characters): got = "\(characters) characters that are not base64"
            }
            guard attempt < VerifiedTransfer.attempts else {
                throw JobError(.providerFailed, "\(label): bytes \(range.lowerBound)..<\(range.upperBound) of \(path) from provider \(lease.provider.name) arrived as \(got) after \(attempt) attempts: expected \(range.count) bytes", step: index)
            }
            logger.info("a download range arrived short; reading it again", metadata: ["path": "\(path)", "range": "\(range)", "got": "\(got)"])
        }
        preconditionFailure("the loop returns or throws")
    }

    /// A failed command's stderr and message, for a JobError.
    static func cause(of failed: ExeScriptCommandResult) -> String {
        let cause = [failed.stderr?.string, failed.message].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
        return cause.isEmpty ? "no message" : cause
    }

    /// Sends a batch and polls its results until every command reported or the batch finished.
    /// Throws ``BatchNotTaken`` when yagna refuses the batch itself: then none of its commands ran.
    /// The batch runs on at the provider while yagna is away, and polling is idempotent, so transient
    /// failures of the poll (yagna shutting down or restarting, the provider's node rejoining the net)
    /// are retried for up to `outageTolerance`; then the provider counts as failed.
    ///
    /// With `watch`, the batch's events are read as they happen (``YagnaClient/batchEvents(_:batchId:maxEventBytes:)``)
    /// while the results are polled, and the watched command's output goes to its sink
    /// (``relayOutput(_:activityId:batchId:)``); once the results are in, the events get up to
    /// ``streamGrace`` for the command's `finished` (``quietStreamGrace`` when they brought nothing of
    /// the command yet), then the stream is closed. The stream never fails the batch.
    func runBatch(
        _ commands: [ExeScriptCommand], on activityId: String, timeout: Duration?, provider: ProviderInfo? = nil,
        watch: OutputWatch? = nil
    ) async throws -> [ExeScriptCommandResult] {
        let who = provider.map { "provider \($0.name)" } ?? "the provider"
        let batchId: String
        do {
            batchId = try await client.exec(activityId, script: commands)
        } catch let error as YagnaError {
            throw BatchNotTaken(error: JobError(.providerFailed, "\(who) did not take the commands: \(error)"))
        }
        let relay = watch.map { watch in Task { await relayOutput(watch, activityId: activityId, batchId: batchId) } }
        defer { relay?.cancel() }
        let results = try await pollBatch(commands, on: activityId, batchId: batchId, timeout: timeout, who: who)
        if let relay, let watch, let cause = await finish(relay, grace: watch.heard ? Self.streamGrace : Self.quietStreamGrace) {
            watch.logger.info("no streamed output for this step; it comes whole with the result", metadata: ["batch": "\(batchId)", "cause": "\(cause)"])
        }
        return results
    }

    /// How long the output stream may lag the polled results for the watched command's `finished`, once
    /// it brought an event of the command (it is live: the rest is on its way).
    static let streamGrace: Duration = .seconds(1)

    /// The same for a stream that brought nothing of the command: most often the command ended before
    /// the stream reached the provider (yagna does not replay), and waiting ``streamGrace`` would add
    /// a second to every short streaming step (on the local network, median of 15: `echo x` took
    /// 1.04 s streamed, 0.02–0.03 s not; with this grace 0.12 s, GolemBackendStreamingMeasure). Output
    /// written at the very end of a long quiet command may still be on its way: this waits for it a little.
    static let quietStreamGrace: Duration = .milliseconds(100)

    /// Waits up to `grace` for `relay` to see its command finish, then stops it; returns when it has
    /// (no piece reaches the sink after the step's result), with why the stream fell short, if it did.
    private func finish(_ relay: Task<String?, Never>, grace: Duration) async -> String? {
        let clock = self.clock
        await withTaskGroup(of: Void.self) { group in
            group.addTask { _ = await relay.value }
            group.addTask { try? await clock.sleep(for: grace) }
            await group.next()
            relay.cancel()
            group.cancelAll()
        }
        return await relay.value
    }

    /// Forwards the watched command's output from the batch's event stream to its sink until the
    /// command's `finished` event (then nil), or the stream's end, failure or cancel: then why it
    /// fell short, for ``runBatch(_:on:timeout:provider:watch:)`` to log once (the step's result
    /// carries the whole output either way).
    func relayOutput(_ watch: OutputWatch, activityId: String, batchId: String) async -> String? {
        var relay = RunOutputRelay(index: watch.index, limit: watch.limit)
        var events = 0
        do {
            for try await event in client.batchEvents(activityId, batchId: batchId) {
                events += 1
                if event.index == watch.index { watch.heard = true }
                if let piece = relay.take(event) { watch.sink(piece.stream, piece.bytes, piece.cut) }
                if relay.finished { return nil }
            }
        } catch where !Task.isCancelled {
            return "\(error)"
        } catch {}
        if Task.isCancelled {
            return watch.heard
                ? "the provider's event stream brought no end of the command within \(Self.streamGrace) of its result (\(events) events read)"
                : "the provider's event stream brought nothing of the command (it may have ended before the stream reached the provider; \(events) events read)"
        }
        return "the provider's event stream ended before the command did (\(events) events read)"
    }

    /// Polls a batch's results until every command reported or the batch finished (``runBatch(_:on:timeout:provider:watch:)``).
    private func pollBatch(
        _ commands: [ExeScriptCommand], on activityId: String, batchId: String, timeout: Duration?, who: String
    ) async throws -> [ExeScriptCommandResult] {
        let clock = self.clock
        let deadline = timeout.map { clock.now + $0 }
        var retry = TransientRetry(window: configuration.outageTolerance)
        var seen = -1
        while true {
            try Task.checkCancellation()
            if let deadline, clock.now >= deadline {
                throw JobError(.providerFailed, "\(who) did not finish within \(timeout!)")
            }
            let started = clock.now
            do {
                let answer = try await client.batchResults(activityId, batchId: batchId, timeout: configuration.pollInterval)
                retry.succeeded()
                if let results = answer {
                    if results.count >= commands.count || results.contains(where: { $0.isBatchFinished }) {
                        return results.sorted { $0.index < $1.index }
                    }
                    // An answer before the wait with nothing new: do not spin.
                    if results.count - 1 <= seen, clock.now - started < .milliseconds(50) {
                        try await clock.sleep(for: .milliseconds(100))
                    }
                    seen = results.count - 1
                }
            } catch let error as YagnaError {
                guard error.isTransient, let pause = retry.failed(started: started, now: clock.now) else {
                    throw JobError(.providerFailed, "\(who) is unreachable or failed while running: \(error)")
                }
                if retry.failures == 1 {
                    logger.info("batch results unreadable; polling again", metadata: ["activity": "\(activityId)", "error": "\(error)"])
                }
                try await clock.sleep(for: pause)
            }
        }
    }

    /// After a job whose last batch did not clean up, before its rental is lent again: empties the
    /// work folder so one job never sees another's files. `false` when the batch failed (the rental
    /// is then ended, not reused).
    func clean(_ lease: Lease) async -> Bool {
        do {
            let results = try await runBatch([StepScript.emptyWorkFolder], on: lease.activityId, timeout: configuration.deployTimeout, provider: lease.provider)
            return results.count == 1 && !results[0].isError
        } catch {
            logger.info("a rental's cleanup after a job failed", metadata: ["activity": "\(lease.activityId)", "error": "\(error)"])
            return false
        }
    }

    /// Why the lease's activity cannot run commands any more (not Ready, unknown to yagna), or nil
    /// when it can or the check itself failed (then the batch's own error stands).
    func deadActivity(_ lease: Lease) async -> String? {
        do {
            let state = try await client.activityState(lease.activityId)
            return state.current == "Ready" ? nil : "activity \(state.current)"
        } catch let error as YagnaError where error.code == .notFound || error.message.contains("Not found") {
            return "unknown to yagna"
        } catch {
            return nil
        }
    }
}

/// A streaming `run` command in a batch: its index there, the bound per stream, where its output goes,
/// the step's logger, and whether the batch's event stream brought anything of the command yet.
final class OutputWatch: Sendable {
    let index: Int
    let limit: Int
    let sink: StepOutputSink
    let logger: Logger
    private let heardFlag = Mutex(false)

    init(index: Int, limit: Int, sink: @escaping StepOutputSink, logger: Logger) {
        self.index = index
        self.limit = limit
        self.sink = sink
        self.logger = logger
    }

    var heard: Bool {
        get { heardFlag.withLock { $0 } }
        set { heardFlag.withLock { $0 = newValue } }
    }
}

/// yagna refused a batch (POST /exec failed): none of its commands ran. ``GolemRental`` moves a job
/// whose first batch on a reused rental was refused to another rental; everywhere else the
/// ``JobError`` inside is what fails.
struct BatchNotTaken: Error, CustomStringConvertible {
    var error: JobError
    var description: String { error.description }
}
