namespace KvAspire.Node.Storage;

/// <summary>Outcomes of an operation; expected ones are values, the gRPC edge maps them to status codes.</summary>
public enum ResultCode
{
    Ok,
    NotFound,
    AlreadyExists,
    VersionMismatch,
    /// <summary>A retried write whose first result is no longer remembered.</summary>
    RequestTooOld,
    /// <summary>An entry at or below the map's applied index: replayed twice, and skipped.</summary>
    AlreadyApplied,
}

public readonly record struct OperationResult(
    ResultCode Code,
    long Version = 0,
    long TimestampUnixMs = 0,
    ReadOnlyMemory<byte> Value = default,
    string? Detail = null,
    int Hops = 0)
{
    public bool IsOk => Code == ResultCode.Ok;
}
