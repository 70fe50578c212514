using KvAspire.Node.Storage;

namespace KvAspire.Node.Pipeline;

/// <summary>
/// A committed entry on its way through F2 and F3, with the requests waiting on this node for each of its
/// writes: on the leader the requests that proposed them, elsewhere none (null), since only the leader
/// answers a write.
/// </summary>
public sealed class CommittedWrites(CommittedEntry entry, PendingRequest?[] waiting) : PipelineItem
{
    public CommittedEntry Entry { get; } = entry;

    /// <summary>Request i waits for operation i of <see cref="Entry"/>, or null when none does here.</summary>
    public PendingRequest?[] Waiting { get; } = waiting;
}
