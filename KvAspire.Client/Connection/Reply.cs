using Grpc.Core;

namespace KvAspire.Client.Connection;

/// <summary>
/// The answer to one command: success with its data, or the status the cluster returned; the node that
/// was asked, and the leader that executed it when the cluster said.
/// </summary>
public sealed record Reply(
    StatusCode Status,
    string? Error = null,
    string? Value = null,
    long Version = 0,
    long TimestampUnixMs = 0,
    int Hops = 0,
    string? Node = null,
    string? Leader = null)
{
    public bool IsOk => Status == StatusCode.OK;

    /// <summary>0 success; 1 the operation's own error; 2 invalid input; 3 unavailable or timed out.</summary>
    public int ExitCode => Status switch
    {
        StatusCode.OK => ExitCodes.Success,
        StatusCode.NotFound or StatusCode.AlreadyExists or StatusCode.FailedPrecondition or StatusCode.Aborted => ExitCodes.OperationFailed,
        StatusCode.InvalidArgument or StatusCode.ResourceExhausted or StatusCode.OutOfRange => ExitCodes.InvalidInput,
        _ => ExitCodes.Unavailable,
    };
}

public static class ExitCodes
{
    public const int Success = 0;
    public const int OperationFailed = 1;
    public const int InvalidInput = 2;
    public const int Unavailable = 3;
}
