using Grpc.Core;

namespace KvAspire.Driver;

/// <summary>
/// An operation the cluster refused or could not complete: its gRPC status, the cluster's reason and the
/// node that answered. The subclasses are the outcomes an app handles; anything else (a bad request, a
/// retried write whose result the cluster no longer keeps) is a plain <see cref="KvException"/>.
/// </summary>
public class KvException(StatusCode status, string message, string? node) : Exception(message)
{
    public StatusCode Status { get; } = status;

    /// <summary>The node that gave this answer (a URL), when one did.</summary>
    public string? Node { get; } = node;
}

/// <summary>The key does not exist (NOT_FOUND).</summary>
public sealed class KvKeyNotFoundException(string key, string message, string? node) : KvException(StatusCode.NotFound, message, node)
{
    public string Key { get; } = key;
}

/// <summary>A call on a lease that is gone: it expired, was revoked, or never was (NOT_FOUND).</summary>
public sealed class KvLeaseNotFoundException(long lease, string message, string? node) : KvException(StatusCode.NotFound, message, node)
{
    public long Lease { get; } = lease;
}

/// <summary>A create of a key that exists (ALREADY_EXISTS).</summary>
public sealed class KvKeyExistsException(string key, string message, string? node) : KvException(StatusCode.AlreadyExists, message, node)
{
    public string Key { get; } = key;
}

/// <summary>A test-and-set whose expected version is not the key's (FAILED_PRECONDITION): nothing changed.</summary>
public sealed class KvVersionMismatchException(string key, long expectedVersion, string message, string? node)
    : KvException(StatusCode.FailedPrecondition, message, node)
{
    public string Key { get; } = key;

    public long ExpectedVersion { get; } = expectedVersion;
}

/// <summary>
/// The cluster did not answer in time (UNAVAILABLE or DEADLINE_EXCEEDED, or RESOURCE_EXHAUSTED from a full
/// node): a write may or may not have been applied, and retrying it with the same client is safe.
/// </summary>
public sealed class KvUnavailableException(StatusCode status, int? position, string message, string? node) : KvException(status, message, node)
{
    /// <summary>The ring position that owns the key, once the client has learned the ring's layout.</summary>
    public int? Position { get; } = position;
}

/// <summary>
/// A watch's start is older than the events its position still keeps (OUT_OF_RANGE): list the keys again,
/// then watch from the list's revisions. <see cref="OldestStart"/> is the oldest revision of
/// <see cref="Position"/> a watch can start after.
/// </summary>
public sealed class KvWatchCompactedException(int position, long oldestStart, string message, string? node)
    : KvException(StatusCode.OutOfRange, message, node)
{
    public int Position { get; } = position;

    public long OldestStart { get; } = oldestStart;
}
