using DotNext.IO;
using DotNext.Net.Cluster.Consensus.Raft;

namespace KvAspire.Node.Consensus;

/// <summary>
/// A Raft entry whose body is in memory, so that DotNext's log and F2 can both read it (an entry arriving
/// over the network can be read only once). Unlike DotNext's <c>BinaryLogEntry</c> it keeps the membership
/// mark of the entry it copies.
/// </summary>
public readonly struct BufferedRaftEntry : IRaftLogEntry, IInputLogEntry
{
    public required long Term { get; init; }

    public required ReadOnlyMemory<byte> Content { get; init; }

    public int? CommandId { get; init; }

    public bool IsConfiguration { get; init; }

    public object? Context { get; init; }

    public bool IsSnapshot => false;

    public bool IsReusable => true;

    public long? Length => Content.Length;

    public bool TryGetMemory(out ReadOnlyMemory<byte> memory)
    {
        memory = Content;
        return true;
    }

    public ValueTask WriteToAsync<TWriter>(TWriter writer, CancellationToken token)
        where TWriter : IAsyncBinaryWriter => writer.Invoke(Content, token);

    /// <summary>A copy of <paramref name="entry"/>, its body read once into memory if it is not there already.</summary>
    public static async ValueTask<BufferedRaftEntry> CopyAsync<TEntry>(TEntry entry, CancellationToken token)
        where TEntry : IRaftLogEntry
    {
        if (!entry.TryGetMemory(out var content))
            content = await entry.ToByteArrayAsync(token: token);
        return new BufferedRaftEntry
        {
            Content = content,
            Term = entry.Term,
            CommandId = entry.CommandId,
            IsConfiguration = entry.IsConfiguration,
            Context = (entry as IInputLogEntry)?.Context,
        };
    }
}
