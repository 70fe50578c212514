using KvAspire.Operations;

namespace KvAspire.Node.Storage;

/// <summary>
/// What the replicated state knows of one client's writes, so that each is applied at most once whatever
/// order its requests arrive in: exactly which sequences were applied (ranges, so a client that counts
/// 1, 2, 3… costs one range however long it runs), and the results of the latest ones, returned to a retry.
/// Part of the map's state: snapshotted and rebuilt by replay like the values.
/// <para>
/// Bounds, per client: the results of its <see cref="Window"/> highest applied sequences are kept, and the
/// applied set is exact over its <see cref="Window"/> most recent gaps (sequences not applied yet, below
/// ones that were). So a client may have up to <see cref="Window"/> requests in flight, in any order, and
/// each is applied once with its own result. Past the bound, the oldest range is let go and sequences below
/// it that were never applied are refused as too old (never applied late); a retry of an applied request
/// whose result is no longer kept is refused saying it was applied.
/// </para>
/// </summary>
public sealed class ClientSession
{
    /// <summary>How many requests one client may have in flight with exactly-once answers.</summary>
    public const int Window = 1024;

    /// <summary>A client silent for this long (in commit time) is forgotten, so the table does not grow forever.</summary>
    public static readonly TimeSpan ForgetAfter = TimeSpan.FromHours(1);

    // Disjoint, non-adjacent ranges of applied sequences, in ascending order; all above Horizon.
    private readonly List<SequenceRange> _applied;
    private readonly SortedDictionary<ulong, OperationResult> _results;

    public ClientSession() : this(0, null, [], []) { }

    private ClientSession(long lastSeenUnixMs, ulong? horizon, List<SequenceRange> applied, SortedDictionary<ulong, OperationResult> results)
    {
        LastSeenUnixMs = lastSeenUnixMs;
        Horizon = horizon;
        _applied = applied;
        _results = results;
    }

    /// <summary>Commit timestamp of the latest write that carried this client's id.</summary>
    public long LastSeenUnixMs { get; set; }

    /// <summary>Sequences at or below it are settled: applied long ago, or never to be applied. Null at first.</summary>
    public ulong? Horizon { get; private set; }

    /// <summary>Applied sequences above <see cref="Horizon"/>, as ranges in ascending order.</summary>
    public IReadOnlyList<SequenceRange> Applied => _applied;

    /// <summary>Kept results, by ascending sequence.</summary>
    public IEnumerable<(ulong Sequence, OperationResult Result)> Results => _results.Select(r => (r.Key, r.Value));

    public int ResultCount => _results.Count;

    /// <summary>What a write with this sequence gets: its first result, a refusal, or null when it is new.</summary>
    public OperationResult? Settle(string clientId, ulong sequence)
    {
        if (_results.TryGetValue(sequence, out var first))
            return first;
        if (IsApplied(sequence))
            return new OperationResult(ResultCode.ResultForgotten,
                Detail: $"request {clientId}/{sequence} was already applied; its result is no longer kept (the latest {Window} of a client's are)");
        if (sequence <= Horizon)
            return new OperationResult(ResultCode.RequestTooOld,
                Detail: $"request {clientId}/{sequence} is too old: more than {Window} requests of its client were left unanswered since; not applied");
        return null;
    }

    /// <summary>Records that <paramref name="sequence"/>, new per <see cref="Settle"/>, was applied with this result.</summary>
    public void Remember(ulong sequence, OperationResult result)
    {
        AddApplied(sequence);
        _results[sequence] = result;
        Trim();
    }

    /// <summary>
    /// This client's session at another position merged in (a move's copy): a sequence applied at either is
    /// applied, the results of both are kept (the latest <see cref="Window"/>), the later horizon holds.
    /// </summary>
    public ClientSession Merge(ClientSession other)
    {
        ulong? horizon = (Horizon, other.Horizon) switch
        {
            ({ } mine, { } theirs) => Math.Max(mine, theirs),
            var (mine, theirs) => mine ?? theirs,
        };
        var merged = Restore(Math.Max(LastSeenUnixMs, other.LastSeenUnixMs), horizon, [.. _applied, .. other._applied], [.. Results, .. other.Results]);
        merged.Trim();
        return merged;
    }

    public ClientSession Copy() => new(LastSeenUnixMs, Horizon, [.. _applied], new SortedDictionary<ulong, OperationResult>(_results));

    /// <summary>
    /// A session from its stored parts. Ranges may come in any order and touch or overlap (older snapshots
    /// stored single sequences in arrival order): they are sorted and merged.
    /// </summary>
    public static ClientSession Restore(long lastSeenUnixMs, ulong? horizon, IEnumerable<SequenceRange> applied,
        IEnumerable<(ulong Sequence, OperationResult Result)> results)
    {
        var ranges = new List<SequenceRange>();
        foreach (var range in applied.OrderBy(r => r.First))
        {
            if (range.Last < range.First)
                throw new ArgumentException($"range {range.First}-{range.Last} ends before it starts");
            if (ranges.Count > 0 && (range.First <= ranges[^1].Last || range.First - 1 == ranges[^1].Last))
                ranges[^1] = ranges[^1] with { Last = Math.Max(ranges[^1].Last, range.Last) };
            else
                ranges.Add(range);
        }
        var kept = new SortedDictionary<ulong, OperationResult>();
        foreach (var (sequence, result) in results)
            kept[sequence] = result;
        return new ClientSession(lastSeenUnixMs, horizon, ranges, kept);
    }

    private bool IsApplied(ulong sequence)
    {
        var at = IndexOfLastStartingAtOrBelow(sequence);
        return at >= 0 && sequence <= _applied[at].Last;
    }

    private void AddApplied(ulong sequence)
    {
        var at = IndexOfLastStartingAtOrBelow(sequence);
        if (at >= 0 && sequence <= _applied[at].Last)
            return;
        var joinsBefore = at >= 0 && _applied[at].Last + 1 == sequence;
        var joinsAfter = at + 1 < _applied.Count && _applied[at + 1].First == sequence + 1;
        if (joinsBefore && joinsAfter)
        {
            _applied[at] = _applied[at] with { Last = _applied[at + 1].Last };
            _applied.RemoveAt(at + 1);
        }
        else if (joinsBefore)
            _applied[at] = _applied[at] with { Last = sequence };
        else if (joinsAfter)
            _applied[at + 1] = _applied[at + 1] with { First = sequence };
        else
            _applied.Insert(at + 1, new SequenceRange(sequence, sequence));
        Trim();
    }

    /// <summary>
    /// Keeps the bounds: at most <see cref="Window"/> results, and ranges (ranges - 1 gaps between them, plus
    /// the one below the first range), the oldest let go below the horizon.
    /// </summary>
    private void Trim()
    {
        while (_results.Count > Window)
            _results.Remove(_results.Keys.First());
        while (_applied.Count > Window)
        {
            Horizon = Math.Max(Horizon ?? 0, _applied[0].Last);
            _applied.RemoveAt(0);
        }
    }

    /// <summary>Index of the last range whose first sequence is at or below <paramref name="sequence"/>, or -1.</summary>
    private int IndexOfLastStartingAtOrBelow(ulong sequence)
    {
        int low = 0, high = _applied.Count - 1;
        while (low <= high)
        {
            var middle = low + (high - low) / 2;
            if (_applied[middle].First <= sequence)
                low = middle + 1;
            else
                high = middle - 1;
        }
        return high;
    }
}

/// <summary>Sequences <see cref="First"/> to <see cref="Last"/>, both included.</summary>
public readonly record struct SequenceRange(ulong First, ulong Last);
