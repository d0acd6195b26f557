/// How the engine runs jobs.
public struct JobEngineConfiguration: Sendable {
    /// How many jobs may hold a backend rental (acquire, run, backoff) at once; the others wait in `new`.
    public var concurrency: Int
    /// The wait between attempts after a provider or backend failure.
    public var retry: RetryPolicy
    /// How many finished jobs ``JobEngine/job(id:)`` still returns; older finished jobs are forgotten
    /// (oldest end first), so memory stays bounded. Running and queued jobs are never forgotten.
    public var finishedJobsRetained: Int

    public init(concurrency: Int = 4, retry: RetryPolicy = RetryPolicy(), finishedJobsRetained: Int = 1000) {
        self.concurrency = max(concurrency, 1)
        self.retry = retry
        self.finishedJobsRetained = max(finishedJobsRetained, 0)
    }
}
