namespace KvAspire.Node.Storage;

public enum LeaseChangeKind
{
    /// <summary>Granted or kept alive: it lives its whole TTL (<see cref="LeaseChange.RemainingMs"/>) from now.</summary>
    Renewed,

    /// <summary>Its leader recorded how long it had left: it lives at most that long from now.</summary>
    Checkpointed,

    /// <summary>Revoked or expired.</summary>
    Removed,
}

/// <summary>What an applied entry did to a lease, for the clock that decides when it is due (<see cref="LeaseChangeKind"/>).</summary>
public readonly record struct LeaseChange(LeaseChangeKind Kind, long Lease, long RemainingMs, long Renewals);
