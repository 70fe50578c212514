namespace KvAspire.Node.Errors;

/// <summary>
/// A watch of <see cref="Position"/> from a revision whose later events are no longer kept: the oldest start
/// that can be served is <see cref="Floor"/>.
/// </summary>
public sealed class EventsCompactedException(int position, long floor, long asked)
    : RequestFailedException(FailureKind.Compacted,
        $"position {position} keeps the events after revision {floor} only, and the watch starts after {asked}: list again, then watch from the list's revisions")
{
    public int Position { get; } = position;

    public long Floor { get; } = floor;
}
