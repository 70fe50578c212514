using Medallion.Threading;

namespace KvAspire.Driver.Aspire.Locking;

/// <summary>
/// A lock held: disposing it releases the lock. <see cref="HandleLostToken"/> is cancelled when the holder's lease
/// is gone or may be (no renewal got through for its TTL): stop the guarded work then. A paused holder may not
/// know in time, so a resource the lock guards should take writes only with a <see cref="FencingToken"/> at
/// least the highest it has seen.
/// </summary>
public sealed class KvLockHandle : IDistributedSynchronizationHandle
{
    private readonly KvLease _lease;

    internal KvLockHandle(KvLease lease, long fencingToken) => (_lease, FencingToken) = (lease, fencingToken);

    /// <summary>The revision at which this holder took the lock: higher for every later holder.</summary>
    public long FencingToken { get; }

    public CancellationToken HandleLostToken => _lease.Lost;

    public ValueTask DisposeAsync() => _lease.DisposeAsync();

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
