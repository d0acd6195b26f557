import NIOPosix

/// Runs blocking file-system work (mkdir, a recursive remove, reads and writes of job files) on
/// NIO's shared blocking pool, so that it never holds one of Swift's cooperative threads (two on
/// this kind of machine: one slow disk call there stalls every task).
public enum BlockingIO {
    /// Runs `body` on `NIOThreadPool.singleton` and returns what it returns or throws it.
    ///
    /// The work runs even when the calling task is cancelled (a work directory must still be removed);
    /// `body` checks for cancellation itself if it should stop. Should the pool ever be stopped,
    /// `body` runs on the calling thread instead of not at all.
    public static func run<Value: Sendable, Failure: Error>(
        _ body: @escaping @Sendable () throws(Failure) -> Value
    ) async throws(Failure) -> Value {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Value, Failure>, Never>) in
            NIOThreadPool.singleton.submit { _ in
                continuation.resume(returning: Result { () throws(Failure) -> Value in try body() })
            }
        }
        return try result.get()
    }
}
