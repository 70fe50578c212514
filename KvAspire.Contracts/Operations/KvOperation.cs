namespace KvAspire.Operations;

/// <summary>What a client asks of the map: the operations of the public API.</summary>
public enum OperationKind : byte
{
    Create = 1,
    Update = 2,
    Delete = 3,
    Read = 4,

    /// <summary>A <see cref="Transaction"/>, routed by its first key (all its keys share a position).</summary>
    Txn = 5,

    /// <summary>A page of one position's keys (<see cref="ListQuery"/>): read as a read is, behind the same barrier.</summary>
    List = 6,

    /// <summary>
    /// A new lease on the position of its key (a key it will hold, or any key with the same <c>{tag}</c>):
    /// its TTL is the value (<see cref="LeaseIds.EncodeTtl"/>), its id's position part the operation's <see cref="KvOperation.Lease"/>.
    /// </summary>
    LeaseGrant = 7,

    /// <summary>The lease lives its whole TTL again from now.</summary>
    LeaseKeepAlive = 8,

    /// <summary>
    /// The lease ends, and every key it holds is deleted at one revision. With an expected version, an expiry
    /// its leader decided: it happens only if the lease was not kept alive since (its renewals are that number).
    /// </summary>
    LeaseRevoke = 9,

    /// <summary>The leader records how long each of its leases has left (<see cref="LeaseCheckpoint"/>s, the value), for the next leader.</summary>
    LeaseCheckpoint = 10,

    /// <summary>A lease's TTL, time left and keys, read as a read is.</summary>
    LeaseRead = 11,
}

/// <summary>Names one write of one client; a retried write carries the same id.</summary>
public readonly record struct ClientRequestId(string ClientId, ulong Sequence);

/// <summary>
/// An operation on the map as a client asked for it. Writes are logged and applied exactly as written
/// here, so everything that decides their outcome must be in this value (the timestamp included, in
/// the node's committed entry). A <see cref="OperationKind.Txn"/> carries its <see cref="Txn"/>, a
/// <see cref="OperationKind.List"/> its <see cref="List"/> (and its prefix as its key). <see cref="Lease"/>: the lease a
/// create or update attaches the key to (0: none, and an update detaches it), or the lease a lease operation is about.
/// </summary>
public sealed record KvOperation(
    OperationKind Kind,
    string Key,
    ReadOnlyMemory<byte> Value = default,
    long? ExpectedVersion = null,
    ClientRequestId? RequestId = null,
    Transaction? Txn = null,
    ListQuery? List = null,
    long Lease = 0)
{
    public bool IsWrite => Kind is not (OperationKind.Read or OperationKind.List or OperationKind.LeaseRead);
}
