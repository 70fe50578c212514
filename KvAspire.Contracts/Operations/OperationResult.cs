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
}

/// <summary>What the map answers for one operation.</summary>
public readonly record struct OperationResult(
    ResultCode Code,
    long Version = 0,
    long TimestampUnixMs = 0,
    ReadOnlyMemory<byte> Value = default,
    string? Detail = null)
{
    public bool IsOk => Code == ResultCode.Ok;
}
