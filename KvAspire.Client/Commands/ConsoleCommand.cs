using KvAspire.Operations;

namespace KvAspire.Client.Commands;

/// <summary>A validated command, ready to send; a create may name the lease that holds its key.</summary>
public sealed record ConsoleCommand(OperationKind Kind, string Key, string? Value = null, long? ExpectedVersion = null, long Lease = 0)
{
    public string Name => Kind.ToString().ToLowerInvariant();

    /// <summary>How the command is shown beside its answer: the command word and the key.</summary>
    public string Label => $"{Name} {Key}";
}
