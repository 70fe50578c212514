using KvAspire.Driver;

namespace KvAspire.Tests.Support;

/// <summary>
/// Checks what a watch saw against the history of the writes, position by position: events in revision
/// order with the events of one revision together, none twice, one for every acknowledged write after the
/// watch's start (same key, value and revision), and none for a write that did not happen (each event is a
/// write of the history: acknowledged at that revision, or one whose answer never came); and key by key,
/// events in revision order across positions (a key's revisions rise across a move of the ring).
/// <c>positionOf</c> places each write: the key's owner on a fixed ring; on a ring that changes, the
/// position its answer's leader belongs to (null: no answer named one, so the write is not placed).
/// </summary>
public static class WatchChecker
{
    /// <summary>What breaks those rules, at most <paramref name="limit"/> lines; empty when nothing does.</summary>
    public static IReadOnlyList<string> Check(IReadOnlyList<KvEvent> events, IEnumerable<HistoryOperation> history,
        IReadOnlyDictionary<int, long> started, Func<HistoryOperation, int?> positionOf, int limit = 20)
    {
        var violations = new List<string>();
        var writes = history.Where(o => o.Kind != HistoryKind.Read && o.Outcome is HistoryOutcome.Ok or HistoryOutcome.Unknown).ToList();
        foreach (var position in events.GroupBy(e => e.Position))
        {
            var closed = new HashSet<long>();
            KvEvent? previous = null;
            foreach (var change in position)
            {
                if (previous is not null && change.Revision < previous.Revision)
                    violations.Add($"position {position.Key}: {Describe(change)} came after {Describe(previous)}");
                if (previous is not null && change.Revision != previous.Revision)
                    closed.Add(previous.Revision);
                if (closed.Contains(change.Revision))
                    violations.Add($"position {position.Key}: revision {change.Revision} was split: {Describe(change)} came after a later revision");
                if (change.Revision <= started.GetValueOrDefault(position.Key))
                    violations.Add($"position {position.Key}: {Describe(change)} is at or before the watch's start ({started.GetValueOrDefault(position.Key)})");
                previous = change;
            }
            foreach (var twice in position.GroupBy(e => (e.Revision, e.Key)).Where(g => g.Count() > 1))
                violations.Add($"position {position.Key}: {twice.Count()} events for {twice.Key.Key} at revision {twice.Key.Revision}");
        }

        foreach (var key in events.GroupBy(e => e.Key))
        {
            foreach (var (earlier, later) in key.Zip(key.Skip(1)).Where(pair => pair.Second.Revision < pair.First.Revision))
                violations.Add($"key {key.Key}: {Describe(later)} at position {later.Position} came after {Describe(earlier)} at position {earlier.Position}");
        }

        var seen = events.ToLookup(e => (e.Position, e.Revision, e.Key));
        foreach (var write in writes.Where(w => w.Outcome == HistoryOutcome.Ok && positionOf(w) is { } at && w.ModRevision > started.GetValueOrDefault(at)))
        {
            var position = positionOf(write)!.Value;
            var match = seen[(position, write.ModRevision, write.Key)].FirstOrDefault();
            if (match is null)
                violations.Add($"position {position}: no event for {write}");
            else if (!Matches(match, write))
                violations.Add($"position {position}: {Describe(match)} for {write}");
        }

        var writesOf = writes.ToLookup(w => w.Key);
        foreach (var change in events)
        {
            var position = change.Position;
            var happened = writesOf[change.Key].Any(w => Matches(change, w) && (positionOf(w) ?? position) == position
                && (w.Outcome == HistoryOutcome.Unknown || w.ModRevision == change.Revision));
            if (!happened)
                violations.Add($"position {position}: {Describe(change)} is no write of the history");
        }
        return violations.Take(limit).ToList();
    }

    private static bool Matches(KvEvent change, HistoryOperation write) => write.Kind == HistoryKind.Delete
        ? change.Kind == KvEventKind.Delete
        : change.Kind == KvEventKind.Put && change.Text == write.Value;

    private static string Describe(KvEvent change) => $"{change.Kind} {change.Key} '{change.Text}' at revision {change.Revision}";

    /// <summary>
    /// Each answer to a progress request is at or past every write of its position acknowledged before the
    /// request was made (<paramref name="requests"/>: each request's number and time), and came after that
    /// write's event.
    /// </summary>
    public static IReadOnlyList<string> CheckProgress(IReadOnlyList<KvEvent> events, IReadOnlyList<WatchRecorder.ProgressAnswer> answers,
        IReadOnlyDictionary<long, long> requests, IEnumerable<HistoryOperation> history, IReadOnlyDictionary<int, long> started,
        Func<HistoryOperation, int?> positionOf, int limit = 20)
    {
        var violations = new List<string>();
        var eventsOf = events.GroupBy(e => e.Position).ToDictionary(g => g.Key, g => g.ToList());
        var acknowledged = history.Where(o => o.Kind != HistoryKind.Read && o.Outcome == HistoryOutcome.Ok && o.ModRevision > 0 && positionOf(o) is not null)
            .GroupBy(o => positionOf(o)!.Value).ToDictionary(g => g.Key, g => g.ToList());
        foreach (var answer in answers)
        {
            var before = requests[answer.Request];
            var yielded = eventsOf.GetValueOrDefault(answer.Position, []).Take(answer.EventsBefore).Select(e => (e.Key, e.Revision)).ToHashSet();
            foreach (var write in acknowledged.GetValueOrDefault(answer.Position, [])
                         .Where(w => w.Return < before && w.ModRevision > started.GetValueOrDefault(answer.Position)))
            {
                if (write.ModRevision > answer.Revision)
                    violations.Add($"position {answer.Position}: progress answered at revision {answer.Revision} (request {answer.Request}), below {write}");
                else if (!yielded.Contains((write.Key, write.ModRevision)))
                    violations.Add($"position {answer.Position}: progress answered at revision {answer.Revision} (request {answer.Request}) before the event of {write}");
            }
        }
        return violations.Distinct().Take(limit).ToList();
    }
}
