using System.Text;
using Grpc.Core;

namespace KvAspire.Driver.Transport;

/// <summary>
/// The answer to one request: success with its data, or the status the cluster returned; the node that
/// was asked, and the leader that executed it when the cluster said.
/// </summary>
internal sealed record Reply(
    StatusCode Status,
    string? Error = null,
    ReadOnlyMemory<byte> Value = default,
    long Version = 0,
    long TimestampUnixMs = 0,
    int Hops = 0,
    string? Node = null,
    string? Leader = null)
{
    public bool IsOk => Status == StatusCode.OK;

    /// <summary>The value as UTF-8 text.</summary>
    public string Text => Encoding.UTF8.GetString(Value.Span);
}
