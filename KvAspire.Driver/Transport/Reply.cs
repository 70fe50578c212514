using System.Text;
using Grpc.Core;
using KvAspire.Operations;
using KvAspire.Routing;

namespace KvAspire.Driver.Transport;

/// <summary>
/// The answer to one request: success with its data (<see cref="Result"/>), or the status the cluster
/// returned; the node that was asked, and the leader that executed it when the cluster said; and the newer
/// layout of the ring a node refused the request with, when it was routed with an older one.
/// </summary>
internal sealed record Reply(
    StatusCode Status,
    string? Error = null,
    OperationResult Result = default,
    int Hops = 0,
    string? Node = null,
    string? Leader = null,
    RingLayout? NewerLayout = null)
{
    public bool IsOk => Status == StatusCode.OK;

    public ReadOnlyMemory<byte> Value => Result.Value;

    public long Version => Result.Version;

    public long TimestampUnixMs => Result.TimestampUnixMs;

    /// <summary>The value as UTF-8 text.</summary>
    public string Text => Encoding.UTF8.GetString(Value.Span);
}
