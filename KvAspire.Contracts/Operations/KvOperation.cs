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
}

/// <summary>Names one write of one client; a retried write carries the same id.</summary>
public readonly record struct ClientRequestId(string ClientId, ulong Sequence);

/// <summary>
/// An operation on the map as a client asked for it. Writes are logged and applied exactly as written
/// here, so everything that decides their outcome must be in this value (the timestamp included, in
/// the node's committed entry). A <see cref="OperationKind.Txn"/> carries its <see cref="Txn"/>, a
/// <see cref="OperationKind.List"/> its <see cref="List"/> (and its prefix as its key).
/// </summary>
public sealed record KvOperation(
    OperationKind Kind,
    string Key,
    ReadOnlyMemory<byte> Value = default,
    long? ExpectedVersion = null,
    ClientRequestId? RequestId = null,
    Transaction? Txn = null,
    ListQuery? List = null)
{
    public bool IsWrite => Kind is not (OperationKind.Read or OperationKind.List);
}
