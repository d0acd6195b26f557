import GolemJobs

/// Told each job event, with the job's labels, as soon as the bridge has journaled it (before it is
/// published). The dashboard's feed. Called on the job's event pump: it must return at once.
public typealias JobEventObserver = @Sendable (JobEvent, _ labels: [String: String]) -> Void
