namespace KvAspire.Driver.Aspire.Locking;

/// <summary>Where <see cref="KvDistributedLockProvider"/> keeps its locks, and how long a dead holder keeps one.</summary>
public sealed class KvDistributedLockOptions
{
    /// <summary>Put before every lock's name to make its key. Default <c>locks/</c>.</summary>
    public string KeyPrefix { get; set; } = "locks/";

    /// <summary>
    /// The TTL of a holder's lease: a holder that stops (crashes, or is cut off) keeps the lock this long at least,
    /// and a little longer at most. Raised to the cluster's minimum lease TTL when below it. Default 10 s.
    /// </summary>
    public TimeSpan LeaseTtl { get; set; } = TimeSpan.FromSeconds(10);
}
