namespace KvAspire.Node.Errors;

/// <summary>Why a request ended without an answer from the map, in the node's own terms.</summary>
public enum FailureKind
{
    /// <summary>No leader, no quorum, a node or a link down, the node stopping: the same request may succeed a moment later, or elsewhere.</summary>
    Unavailable,

    /// <summary>A deadline passed on the way: the caller's, or a later hop's.</summary>
    DeadlineExceeded,

    /// <summary>A later hop's caller gave up.</summary>
    Cancelled,

    /// <summary>The request is malformed, as another node's validation found.</summary>
    InvalidArgument,

    /// <summary>Another node was too busy to take the request.</summary>
    Overloaded,

    /// <summary>A bug, logged where it was found.</summary>
    Internal,

    /// <summary>A watch's start is older than the events kept (<see cref="EventsCompactedException"/>).</summary>
    Compacted,

    /// <summary>The cluster's state does not allow it now (a move of a range whose keys hold leases, or one not fenced); the message says why.</summary>
    Refused,
}

/// <summary>
/// A request that ended without an answer from the map. The node's paths throw it (and translate the
/// failures of DotNext and of calls to other nodes into it where they call them); the gRPC edge maps it to
/// a status in one place (<c>Api/StatusMapping</c>). An answer of the map that is not a success (not
/// found, exists, wrong version) is a value, never this.
/// </summary>
public class RequestFailedException(FailureKind kind, string detail, Exception? inner = null) : Exception(detail, inner)
{
    public FailureKind Kind { get; } = kind;

    /// <summary>Failures that a moment later, or on the next leader, may not happen again.</summary>
    public bool IsWorthRetrying => Kind is FailureKind.Unavailable or FailureKind.DeadlineExceeded;

    public static RequestFailedException Unavailable(string detail, Exception? inner = null) => new(FailureKind.Unavailable, detail, inner);

    public static RequestFailedException Refused(string detail) => new(FailureKind.Refused, detail);
}
