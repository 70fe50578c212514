using Grpc.Core;

namespace KvAspire.Client.Commands;

/// <summary>
/// What the console shows for one command: success with the key's value (a read), version, commit time,
/// hops and the key's modify revision on its position, or the status the cluster answered and why; and
/// the node that answered.
/// </summary>
public sealed record ConsoleAnswer(
    StatusCode Status,
    string? Error = null,
    string? Value = null,
    long Version = 0,
    DateTimeOffset CommittedAt = default,
    int Hops = 0,
    string? Node = null,
    long ModRevision = 0)
{
    public bool IsOk => Status == StatusCode.OK;
}
