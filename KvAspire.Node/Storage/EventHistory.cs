using KvAspire.Operations;

namespace KvAspire.Node.Storage;

/// <summary>
/// The changes this replica applied to its position, newest last, kept for watchers: every event after
/// <see cref="Floor"/> up to <see cref="Revision"/> is here. Bounded in bytes: past the bound the oldest
/// revisions go (whole), raising the floor; a watch from below the floor can no longer be served here.
/// Rebuilt on start from the entries <c>log.X</c> holds after the snapshot (whose revision is the floor),
/// and emptied when the leader's snapshot replaces the map. One writer (F3's worker, or recovery before
/// it); any number of readers.
/// </summary>
public sealed class EventHistory(long maxBytes)
{
    private readonly Lock _gate = new();
    private readonly List<KeyEvent> _events = [];
    private int _first;
    private long _bytes;
    private long _floor;
    private long _revision;
    private TaskCompletionSource _appended = NewSignal();

    /// <summary>Events after this revision are all kept.</summary>
    public long Floor
    {
        get { lock (_gate) return _floor; }
    }

    /// <summary>The position's revision as this replica applied it.</summary>
    public long Revision
    {
        get { lock (_gate) return _revision; }
    }

    /// <summary>What the events kept count for against the bound.</summary>
    public long Bytes
    {
        get { lock (_gate) return _bytes; }
    }

    /// <summary>Drops every event: the map now holds exactly <paramref name="revision"/>, with nothing before it to tell.</summary>
    public void Reset(long revision)
    {
        lock (_gate)
        {
            _events.Clear();
            (_first, _bytes, _floor, _revision) = (0, 0, revision, revision);
        }
        Signal();
    }

    /// <summary>One entry's changes, in order, and the revision the map reached with them.</summary>
    public void Append(IReadOnlyList<KeyEvent> changes, long revision)
    {
        if (changes.Count == 0 && revision == Revision)
            return;
        lock (_gate)
        {
            foreach (var change in changes)
            {
                _events.Add(change);
                _bytes += change.Bytes;
            }
            _revision = revision;
            while (_bytes > maxBytes && _first < _events.Count)
                DropOldestRevision();
            if (_first > 1024 && _first > _events.Count / 2)
            {
                _events.RemoveRange(0, _first);
                _first = 0;
            }
        }
        Signal();
    }

    private void DropOldestRevision()
    {
        var oldest = _events[_first].Revision;
        while (_first < _events.Count && _events[_first].Revision == oldest)
        {
            _bytes -= _events[_first].Bytes;
            _events[_first++] = null!;
        }
        _floor = oldest;
    }

    /// <summary>
    /// The events after revision <paramref name="after"/>, in whole revisions, stopping once past
    /// <paramref name="maxBytes"/>; and the revision they bring a reader to (the history's own when none is
    /// left). Null when events after <paramref name="after"/> are no longer kept.
    /// </summary>
    public (IReadOnlyList<KeyEvent> Events, long UpTo)? Read(long after, long maxBytes)
    {
        lock (_gate)
        {
            if (after < _floor)
                return null;
            var start = FirstAfter(after);
            var taken = new List<KeyEvent>();
            var bytes = 0L;
            var i = start;
            for (; i < _events.Count; i++)
            {
                var change = _events[i];
                if (bytes >= maxBytes && change.Revision != taken[^1].Revision)
                    break;
                taken.Add(change);
                bytes += change.Bytes;
            }
            return (taken, i == _events.Count ? Math.Max(_revision, after) : taken[^1].Revision);
        }
    }

    /// <summary>Completes at the next change of the history (an append or a reset).</summary>
    public Task Appended
    {
        get { lock (_gate) return _appended.Task; }
    }

    private int FirstAfter(long revision)
    {
        int low = _first, high = _events.Count;
        while (low < high)
        {
            var middle = (low + high) / 2;
            if (_events[middle].Revision <= revision)
                low = middle + 1;
            else
                high = middle;
        }
        return low;
    }

    private void Signal()
    {
        TaskCompletionSource fired;
        lock (_gate)
        {
            fired = _appended;
            _appended = NewSignal();
        }
        fired.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
