using Grpc.Core;
using KvAspire.Node.Errors;
using KvAspire.Operations;

namespace KvAspire.Node.Api;

/// <summary>What the node's paths end with, as the gRPC status the caller sees: in one place, at the edge.</summary>
public static class StatusMapping
{
    /// <summary>The status the client sees for an answer of the map that is not a success.</summary>
    public static RpcException ToRpcException(OperationResult result) =>
        new(new Status(ResultStatus.ToStatusCode(result.Code), result.Detail ?? result.Code.ToString()));

    /// <summary>The failure's status; a watch's start that is no longer kept also names the oldest start in a trailer.</summary>
    public static RpcException ToRpcException(RequestFailedException failure) =>
        new(new Status(FailureStatus.ToStatusCode(failure.Kind), failure.Message),
            failure is EventsCompactedException compacted ? [WatchMessages.CompactedEntry(compacted.Position, compacted.Floor)] : Metadata.Empty);

    /// <summary>A stream this node ends because it is stopping: its caller goes on at another node.</summary>
    public static RpcException Stopping() => new(new Status(StatusCode.Unavailable, "the node is stopping"));
}
