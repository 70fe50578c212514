using KvAspire.Node.Storage;

namespace KvAspire.Node.Pipeline;

/// <summary>
/// Snapshot X, placed in the order like a command: F2 starts <c>log.X</c> when the marker reaches it and
/// F3 takes the map's view when it does, so the snapshot holds exactly what <c>log.(X−1)</c> ends with.
/// A marker that carries <see cref="Install"/> (a snapshot received from the leader) first makes the map
/// that state, then writes it as snap.X.
/// </summary>
public sealed class SnapshotMarker(long number, MapSnapshot? install = null) : PipelineItem
{
    private readonly TaskCompletionSource _rotated = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<(long Index, long Term)> _written = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public long Number { get; } = number;

    /// <summary>The state the map takes at this point of the order, when the leader sent one.</summary>
    public MapSnapshot? Install { get; } = install;

    /// <summary>Completes once <c>log.X</c> is open and new writes go to it.</summary>
    public Task Rotated => _rotated.Task;

    /// <summary>Completes with the last index and term the snapshot holds once <c>snap.X</c> is durable.</summary>
    public Task<(long Index, long Term)> Written => _written.Task;

    public void MarkRotated() => _rotated.TrySetResult();

    public void MarkWritten(long lastIndex, long lastTerm) => _written.TrySetResult((lastIndex, lastTerm));

    public void Fail(Exception exception)
    {
        _rotated.TrySetException(exception);
        _written.TrySetException(exception);
    }
}
