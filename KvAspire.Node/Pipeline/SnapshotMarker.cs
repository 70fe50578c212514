namespace KvAspire.Node.Pipeline;

/// <summary>
/// Snapshot X, placed in the order like a command: F2 starts <c>log.X</c> when the marker reaches it and
/// F3 takes the map's view when it does, so the snapshot holds exactly what <c>log.(X−1)</c> ends with.
/// </summary>
public sealed class SnapshotMarker(long number) : PipelineItem
{
    private readonly TaskCompletionSource _rotated = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<long> _written = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public long Number { get; } = number;

    /// <summary>Completes once <c>log.X</c> is open and new writes go to it.</summary>
    public Task Rotated => _rotated.Task;

    /// <summary>Completes with the last index the snapshot holds once <c>snap.X</c> is durable.</summary>
    public Task<long> Written => _written.Task;

    public void MarkRotated() => _rotated.TrySetResult();

    public void MarkWritten(long lastIndex) => _written.TrySetResult(lastIndex);

    public void Fail(Exception exception)
    {
        _rotated.TrySetException(exception);
        _written.TrySetException(exception);
    }
}
