using Grpc.Core;
using KvAspire.Operations;

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

    /// <summary>The status the client sees for a result that is not a success.</summary>
    public static RpcException ToRpcException(OperationResult result) =>
        new(new Status(ToStatusCode(result.Code), result.Detail ?? result.Code.ToString()));
}
