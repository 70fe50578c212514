namespace KvAspire.Node.Storage;

/// <summary>
/// One client's most recent write results, oldest forgotten first, so that a retried write returns its
/// first result. Part of the map's state: snapshotted and rebuilt by replay like the values.
/// </summary>
public sealed class ClientResults
{
    /// <summary>How many of a client's most recent write results are remembered for retries.</summary>
    public const int Capacity = 256;

    /// <summary>A client silent for this long (in commit time) is forgotten, so the table does not grow forever.</summary>
    public static readonly TimeSpan ForgetAfter = TimeSpan.FromHours(1);

    /// <summary>Commit timestamp of the latest write that carried this client's id.</summary>
    public long LastSeenUnixMs { get; set; }

    private readonly Dictionary<ulong, OperationResult> _results = new();
    private readonly Queue<ulong> _order = new();

    /// <summary>The highest sequence forgotten so far, or null if none yet; anything at or below it is too old.</summary>
    public ulong? ForgottenUpTo { get; private set; }

    /// <summary>Remembered results, oldest first.</summary>
    public IEnumerable<(ulong Sequence, OperationResult Result)> Results => _order.Select(s => (s, _results[s]));

    public int Count => _order.Count;

    public bool TryGet(ulong sequence, out OperationResult result) => _results.TryGetValue(sequence, out result);

    public bool IsForgotten(ulong sequence) => sequence <= ForgottenUpTo;

    public void Remember(ulong sequence, OperationResult result)
    {
        _results[sequence] = result;
        _order.Enqueue(sequence);
        if (_order.Count <= Capacity)
            return;
        var oldest = _order.Dequeue();
        _results.Remove(oldest);
        ForgottenUpTo = ForgottenUpTo is { } forgotten ? Math.Max(forgotten, oldest) : oldest;
    }

    public ClientResults Copy() => Restore(LastSeenUnixMs, ForgottenUpTo, Results);

    public static ClientResults Restore(long lastSeenUnixMs, ulong? forgottenUpTo, IEnumerable<(ulong Sequence, OperationResult Result)> results)
    {
        var restored = new ClientResults { LastSeenUnixMs = lastSeenUnixMs, ForgottenUpTo = forgottenUpTo };
        foreach (var (sequence, result) in results)
        {
            restored._results[sequence] = result;
            restored._order.Enqueue(sequence);
        }
        return restored;
    }
}
