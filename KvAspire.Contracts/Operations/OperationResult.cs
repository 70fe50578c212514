namespace KvAspire.Operations;

/// <summary>Outcomes of an operation; expected ones are values, the gRPC edge maps them to status codes.</summary>
public enum ResultCode
{
    Ok,
    NotFound,
    AlreadyExists,
    VersionMismatch,
    /// <summary>A write older than what its client's session still tracks: not applied, and never will be.</summary>
    RequestTooOld,
    /// <summary>A retried write that was applied, whose result is no longer kept.</summary>
    ResultForgotten,
    /// <summary>An entry at or below the map's applied index: replayed twice, and skipped.</summary>
    AlreadyApplied,

    /// <summary>The lease named does not exist: it expired, was revoked, or never was.</summary>
    LeaseNotFound,

    /// <summary>
    /// The key is not in the range its position's group owns (its committed claim): the request was routed
    /// with another layout than the group's. Not applied; a node routes it again with a newer layout.
    /// </summary>
    NotOwner,
}

/// <summary>
/// What the map answers for one operation. Revisions are the key's position's: <see cref="CreateRevision"/>
/// and <see cref="ModRevision"/> the key's (the revisions of the change that created it and of its latest
/// change; for a delete, of the delete itself), <see cref="Revision"/> the position's when the operation was
/// applied or read. All 0 before the position started counting (its baseline entry). A transaction's
/// result is <see cref="Txn"/>, a list's <see cref="Listed"/>, a lease operation's <see cref="Lease"/>.
/// </summary>
public readonly record struct OperationResult(
    ResultCode Code,
    long Version = 0,
    long TimestampUnixMs = 0,
    ReadOnlyMemory<byte> Value = default,
    string? Detail = null,
    long CreateRevision = 0,
    long ModRevision = 0,
    long Revision = 0,
    TransactionOutcome? Txn = null,
    ListPage? Listed = null,
    LeaseInfo? Lease = null)
{
    public bool IsOk => Code == ResultCode.Ok;
}
