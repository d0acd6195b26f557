import AsyncHTTPClient
import NIOCore

/// A running batch's events as they happen (`GET /activity/{id}/exec/{batch}` as `text/event-stream`).
extension YagnaClient {
    /// yagna compares the `Accept` header to this exact string to answer a batch's results as events.
    static let eventStream = "text/event-stream"

    /// The most an event stream may stay silent: 4 of yagna's 15 s pings.
    static let streamReadTimeout: Duration = .seconds(60)

    /// The HTTP client of event streams, never shut down (one per process). A stream holds its
    /// connection for a whole batch, and AsyncHTTPClient keeps at most 8 connections per host and queues
    /// the rest: on the calls' client, 8 streaming steps would hold back every poll and payment call
    /// (a provider that does not stream leaves its stream open, pinged, with no events). So streams
    /// have their own pool, and ``streamReadTimeout`` ends a dead one.
    static let streamingHTTP: HTTPClient = {
        var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(10), read: TimeAmount(streamReadTimeout)))
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 1024)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// The batch's ``RuntimeEvent``s as yagna streams them, until yagna ends the stream, it fails, or
    /// the consumer stops iterating (that cancels the request).
    ///
    /// yagna broadcasts what the exe-unit reports: events from before the request reached the provider
    /// are not repeated, so a caller reads these as best effort and the polled results
    /// (``batchResults(_:batchId:timeout:)``) as the truth. The stream throws ``YagnaError``: the
    /// request's status (a provider or yagna that cannot stream), `.badResponse` for an answer that is
    /// not an event stream, an event over `maxEventBytes` or one that is not a runtime event (yagna
    /// sends its errors that way), `.unreachable` when the connection breaks. The response's head is
    /// bounded by the configured request timeout, and then each read by 60 s (``streamingHTTP``).
    public func batchEvents(_ activityId: String, batchId: String, maxEventBytes: Int = 1 << 20) -> AsyncThrowingStream<RuntimeEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: RuntimeEvent.self)
        let task = Task {
            do {
                try await readEvents(activityId, batchId: batchId, maxEventBytes: maxEventBytes) { continuation.yield($0) }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    private func readEvents(
        _ activityId: String, batchId: String, maxEventBytes: Int, yield: (RuntimeEvent) -> Void
    ) async throws {
        let path = "/activity-api/v1/activity/\(activityId)/exec/\(batchId)"
        let name = "GET \(path) (events)"
        var request = HTTPClientRequest(url: configuration.apiURL + path)
        request.method = .GET
        request.headers.add(name: "Authorization", value: "Bearer \(configuration.appKey)")
        request.headers.add(name: "Accept", value: Self.eventStream)
        let bound = configuration.requestTimeout
        let response: HTTPClientResponse
        do {
            response = try await Self.streamingHTTP.execute(request, timeout: TimeAmount(bound))
        } catch {
            throw Self.transportError(error, call: name, bound: bound)
        }
        let status = Int(response.status.code)
        logger.trace("yagna call", metadata: ["yagna.call": "\(name)", "yagna.status": "\(status)"])
        guard (200..<300).contains(status) else {
            let body = try? await response.body.collect(upTo: 64 << 10)
            throw Self.refusal(status, call: name, body: body.map { Array($0.readableBytesView) } ?? [])
        }
        let type = response.headers.first(name: "Content-Type") ?? "none"
        guard type.lowercased().hasPrefix(Self.eventStream) else {
            throw YagnaError(.badResponse, call: name, message: "the answer is \(type), not an event stream")
        }
        var parser = ServerSentEventParser(maxEventBytes: maxEventBytes)
        do {
            for try await chunk in response.body {
                for event in try parser.feed(chunk.readableBytesView) where event.event == "runtime" {
                    guard let runtime = try? RuntimeEvent.decode(event.data) else {
                        throw YagnaError(.badResponse, call: name, message: "not a runtime event: \(Self.errorMessage(Array(event.data.utf8)))")
                    }
                    yield(runtime)
                }
            }
        } catch let error as ServerSentEventsError {
            throw YagnaError(.badResponse, call: name, message: "\(error)")
        } catch let error as YagnaError {
            throw error
        } catch {
            throw Self.transportError(error, call: name, bound: Self.streamReadTimeout)
        }
    }
}
