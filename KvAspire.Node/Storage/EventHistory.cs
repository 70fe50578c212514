using KvAspire.Operations;

namespace KvAspire.Node.Storage;

/// <summary>
/// The changes this replica applied to its position, newest last, kept for watchers: every event after
/// <see cref="Floor"/> up to <see cref="Revision"/> is here. Bounded in bytes: past the bound the oldest
/// revisions go (whole), raising the floor; a watch from below the floor can no longer be served here.
/// Rebuilt on start from the entries <c>log.X</c> holds after the snapshot (whose revision is the floor),
/// and emptied when the leader's snapshot replaces the map. It also keeps the position's handovers (keys given
/// to another position, or taken from one, each at a revision of its own), so a watch can follow its keys.
/// One writer (F3's worker, or recovery before
/// it); any number of readers.
/// </summary>
public sealed class EventHistory(long maxBytes)
{
    private readonly Lock _gate = new();
    private readonly List<KeyEvent> _events = [];
    // Few (one per move the position took part in), each at a revision of its own with no events.
    private readonly List<RangeHandover> _handovers = [];
    private int _first;
    private long _bytes;
    private long _floor;
    private long _revision;
    private long _claimEpoch;
    // The newest epoch of a handover this history may have lost (dropped, or before the snapshot it started at).
    private long _forgottenEpoch;
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

    /// <summary>Drops every event: <paramref name="map"/> now holds exactly its revision, with nothing before it to tell.</summary>
    public void Reset(KvMap map) => Reset(map.Revision, map.Claim?.Epoch ?? 0);

    /// <summary>Drops every event: the map now holds exactly <paramref name="revision"/>, with nothing before it to tell.</summary>
    public void Reset(long revision, long claimEpoch = 0)
    {
        lock (_gate)
        {
            _events.Clear();
            _handovers.Clear();
            (_first, _bytes, _floor, _revision, _claimEpoch, _forgottenEpoch) = (0, 0, revision, revision, claimEpoch, claimEpoch);
        }
        Signal();
    }

    /// <summary>What the last entry <paramref name="map"/> applied changed: its events, its revision, the keys it holds.</summary>
    public void Append(KvMap map) => Append(map.Changes, map.Revision, map.Handover, map.Claim?.Epoch ?? 0);

    /// <summary>One entry's changes, in order, the revision the map reached with them, and what it did to the keys it holds.</summary>
    public void Append(IReadOnlyList<KeyEvent> changes, long revision, RangeHandover? handover = null, long claimEpoch = 0)
    {
        lock (_gate)
        {
            _claimEpoch = Math.Max(_claimEpoch, claimEpoch);
            if (changes.Count == 0 && revision == _revision && handover is null)
                return;
            foreach (var change in changes)
            {
                _events.Add(change);
                _bytes += change.Bytes;
            }
            if (handover is not null)
                _handovers.Add(handover);
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
        while (_handovers.Count > 0 && _handovers[0].Revision <= _floor)
        {
            _forgottenEpoch = Math.Max(_forgottenEpoch, _handovers[0].Handover.Epoch);
            _handovers.RemoveAt(0);
        }
    }

    /// <summary>
    /// The events after revision <paramref name="after"/>, in whole revisions, stopping once past
    /// <paramref name="maxBytes"/> or at the next handover (returned with them, and its revision the one they
    /// bring the reader to); and the revision they bring a reader to (the history's own when none is left).
    /// Null when events after <paramref name="after"/> are no longer kept.
    /// </summary>
    public (IReadOnlyList<KeyEvent> Events, long UpTo, RangeHandover? Handover)? Read(long after, long maxBytes)
    {
        lock (_gate)
        {
            if (ReadEvents(after, maxBytes) is not var (events, upTo))
                return null;
            if (_handovers.FirstOrDefault(h => h.Revision > after && h.Revision <= upTo) is not { } handover)
                return (events, upTo, null);
            return ([.. events.TakeWhile(e => e.Revision < handover.Revision)], handover.Revision, handover);
        }
    }

    /// <summary>
    /// Where a watch of the keys <paramref name="position"/> took at <paramref name="epoch"/> starts: just
    /// before that handover; now when this replica has not applied it yet; the floor when it kept every
    /// handover of that epoch and later, and none brought keys at that one (the move was given up). Null when
    /// the handover may be one it no longer keeps.
    /// </summary>
    public long? ArrivalStart(int position, long epoch)
    {
        lock (_gate)
        {
            if (_handovers.FirstOrDefault(h => h.Handover.Epoch == epoch && h.Handover.Arrives(position)) is { } arrival)
                return arrival.Revision - 1;
            if (_claimEpoch < epoch)
                return _revision;
            return epoch > _forgottenEpoch ? _floor : null;
        }
    }

    /// <summary>
    /// The last handover at or before <paramref name="revision"/> that concerns a watch of one key, when by it
    /// <paramref name="position"/> gave the key away: a watch started after it must go where the key went.
    /// </summary>
    public RangeHandover? GivenAway(int position, WatchQuery query, long revision)
    {
        if (query.Prefix)
            return null;
        lock (_gate)
        {
            var last = _handovers.LastOrDefault(h => h.Revision <= revision && h.Concerns(query));
            return last is not null && last.Handover.Leaves(position) ? last : null;
        }
    }

    private (List<KeyEvent> Events, long UpTo)? ReadEvents(long after, long maxBytes)
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
