using Grpc.Core;
using KvAspire.Node.Storage;

namespace KvAspire.Node.Api;

/// <summary>Operation results to gRPC status codes, in one place.</summary>
public static class StatusMapping
{
    public static StatusCode ToStatusCode(ResultCode code) => code switch
    {
        ResultCode.Ok => StatusCode.OK,
        ResultCode.NotFound => StatusCode.NotFound,
        ResultCode.AlreadyExists => StatusCode.AlreadyExists,
        ResultCode.VersionMismatch => StatusCode.FailedPrecondition,
        ResultCode.RequestTooOld or ResultCode.ResultForgotten or ResultCode.AlreadyApplied => StatusCode.Aborted,
        _ => StatusCode.Internal,
    };

    /// <summary>Returns the result when it is a success; otherwise throws the status the client sees.</summary>
    public static OperationResult EnsureOk(OperationResult result) =>
        result.IsOk ? result : throw new RpcException(new Status(ToStatusCode(result.Code), result.Detail ?? result.Code.ToString()));

    /// <summary>Why a command got no result at all: the node could not make it durable.</summary>
    public static RpcException Unavailable(Exception exception) =>
        new(new Status(StatusCode.Unavailable, exception.Message));
}
