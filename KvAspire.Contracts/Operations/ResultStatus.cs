using Grpc.Core;

namespace KvAspire.Operations;

/// <summary>The map's answers that are not successes, as gRPC status codes and back: the one table for every party.</summary>
public static class ResultStatus
{
    public static StatusCode ToStatusCode(ResultCode code) => code switch
    {
        ResultCode.Ok => StatusCode.OK,
        ResultCode.NotFound or ResultCode.LeaseNotFound => StatusCode.NotFound,
        ResultCode.AlreadyExists => StatusCode.AlreadyExists,
        ResultCode.VersionMismatch => StatusCode.FailedPrecondition,
        ResultCode.RequestTooOld or ResultCode.ResultForgotten or ResultCode.AlreadyApplied => StatusCode.Aborted,
        // Between the replicas of one position only (a hand-off's result); a node routes it again before answering a client.
        ResultCode.NotOwner => StatusCode.OutOfRange,
        _ => StatusCode.Internal,
    };

    /// <summary>
    /// The answer of the map a status stands for, or null when it stands for none (a failure on the way).
    /// ABORTED stands for three answers alike (a retried write whose fate is no longer known); its detail says which.
    /// </summary>
    public static ResultCode? ToResultCode(StatusCode status) => status switch
    {
        StatusCode.NotFound => ResultCode.NotFound,
        StatusCode.AlreadyExists => ResultCode.AlreadyExists,
        StatusCode.FailedPrecondition => ResultCode.VersionMismatch,
        StatusCode.Aborted => ResultCode.RequestTooOld,
        StatusCode.OutOfRange => ResultCode.NotOwner,
        _ => null,
    };
}
