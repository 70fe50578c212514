using Grpc.Core;
using KvAspire.Node.Errors;
using KvAspire.Operations;

namespace KvAspire.Node.Peers;

/// <summary>What a status another node answered means here: an answer of its map, or a failure on the way.</summary>
public static class PeerStatus
{
    /// <summary>The map's answer, when <paramref name="status"/> stands for one (not found, exists, wrong version); null otherwise.</summary>
    public static OperationResult? AsResult(StatusCode status, string detail) =>
        ResultStatus.ToResultCode(status) is { } code ? new OperationResult(code, Detail: detail) : null;

    public static RequestFailedException AsFailure(StatusCode status, string detail, Exception? inner = null) =>
        new(FailureStatus.ToKind(status), detail, inner);
}
