using KvAspire.Node.Storage;

namespace KvAspire.Node.Pipeline;

/// <summary>
/// Snapshot X, placed in the committed order like a command: F3 takes the map's view when the marker
/// reaches it, and F2 starts <c>log.X</c> with the entries after that point, so <c>snap.X</c> and
/// <c>log.X</c> together hold the whole Raft log.
/// A marker that carries <see cref="Install"/> (a snapshot received from the leader) first makes the map
/// that state, then writes it as snap.X.
/// </summary>
public sealed class SnapshotMarker(long number, MapSnapshot? install = null) : PipelineItem
{
    private readonly TaskCompletionSource<(long Index, long Term)> _written = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public long Number { get; } = number;

    /// <summary>The state the map takes at this point of the order, when the leader sent one.</summary>
    public MapSnapshot? Install { get; } = install;

    /// <summary>Completes with the last index and term the snapshot holds once <c>snap.X</c> is durable.</summary>
    public Task<(long Index, long Term)> Written => _written.Task;

    public void MarkWritten(long lastIndex, long lastTerm) => _written.TrySetResult((lastIndex, lastTerm));

    public void Fail(Exception exception) => _written.TrySetException(exception);
}
