using Grpc.Core;

namespace KvAspire.Node.Errors;

/// <summary>
/// Each failure kind and the gRPC status that carries it between nodes and to clients: one table, read
/// both ways (at the edge, and where another node's status is read back).
/// </summary>
public static class FailureStatus
{
    private static readonly (FailureKind Kind, StatusCode Status)[] Table =
    [
        (FailureKind.Unavailable, StatusCode.Unavailable),
        (FailureKind.DeadlineExceeded, StatusCode.DeadlineExceeded),
        (FailureKind.Cancelled, StatusCode.Cancelled),
        (FailureKind.InvalidArgument, StatusCode.InvalidArgument),
        (FailureKind.Overloaded, StatusCode.ResourceExhausted),
        (FailureKind.Internal, StatusCode.Internal),
        (FailureKind.Compacted, StatusCode.OutOfRange),
        (FailureKind.Refused, StatusCode.FailedPrecondition),
    ];

    public static StatusCode ToStatusCode(FailureKind kind) => Table.First(row => row.Kind == kind).Status;

    /// <summary>The failure a status stands for; Internal for one that stands for none.</summary>
    public static FailureKind ToKind(StatusCode status)
    {
        foreach (var (kind, carried) in Table)
        {
            if (carried == status)
                return kind;
        }
        return FailureKind.Internal;
    }
}
