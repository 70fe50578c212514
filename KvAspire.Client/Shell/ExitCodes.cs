using Grpc.Core;
using KvAspire.Client.Commands;

namespace KvAspire.Client.Shell;

/// <summary>The console's exit codes: 0 success; 1 the operation's own error; 2 invalid input; 3 unavailable or timed out.</summary>
public static class ExitCodes
{
    public const int Success = 0;
    public const int OperationFailed = 1;
    public const int InvalidInput = 2;
    public const int Unavailable = 3;

    public static int Of(ConsoleAnswer reply) => Of(reply.Status);

    public static int Of(StatusCode status) => status switch
    {
        StatusCode.OK => Success,
        StatusCode.NotFound or StatusCode.AlreadyExists or StatusCode.FailedPrecondition or StatusCode.Aborted => OperationFailed,
        StatusCode.InvalidArgument or StatusCode.OutOfRange => InvalidInput,
        _ => Unavailable,
    };
}
