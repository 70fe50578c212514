namespace KvAspire.Node.Storage;

public enum LeaseChangeKind
{
    /// <summary>Granted or kept alive: it lives its whole TTL (<see cref="LeaseChange.RemainingMs"/>) from now.</summary>
    Renewed,

    /// <summary>Its leader recorded how long it had left: it lives at most that long from now.</summary>
    Checkpointed,

    /// <summary>Revoked, expired, or given to another position with the key it lives with.</summary>
    Removed,

    /// <summary>Served here from now (taken with its key from another position, or taken back): it lives the time its last record left it from now.</summary>
    Arrived,
}

/// <summary>What an applied entry did to a lease, for the clock that decides when it is due (<see cref="LeaseChangeKind"/>).</summary>
public readonly record struct LeaseChange(LeaseChangeKind Kind, long Lease, long RemainingMs, long Renewals, long TtlMs = 0);
