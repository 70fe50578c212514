namespace KvAspire.Node.Pipeline;

/// <summary>
/// Stops the node when one of its invariants breaks — its operation log cannot be written, a committed
/// entry cannot be applied — rather than let it carry on answering, different from its replicas. The
/// process then exits with code 1, so whatever supervises it sees a failure; a restart recovers from the
/// node's own files, and Raft brings back what they lack.
/// </summary>
public sealed class FailStop(IHostApplicationLifetime lifetime)
{
    private volatile bool _stopped;

    /// <summary>Whether the node was stopped for a broken invariant.</summary>
    public bool Stopped => _stopped;

    public void Stop()
    {
        _stopped = true;
        lifetime.StopApplication();
    }
}
