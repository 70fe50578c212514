namespace KvAspire.Tests.Support;

/// <summary>The verdict on a history: linearizable, or the first key whose operations are not, and why.</summary>
public sealed record LinearizabilityVerdict(bool IsLinearizable, string? Key = null, string? Explanation = null);

/// <summary>
/// Checks that a recorded history of KvAspire operations is linearizable (Wing and Gong's search, with
/// Lowe's memoisation of (operations placed, state), as in Porcupine): each key is a register holding
/// absent or (value, version), checked on its own. Some order of the operations must respect real time
/// (an operation that returned before another was called comes first) and give every answer that was
/// seen. An operation without an answer may take effect at any time after its call, or never.
/// </summary>
public static class LinearizabilityChecker
{
    public static LinearizabilityVerdict Check(IEnumerable<HistoryOperation> history)
    {
        foreach (var key in history.GroupBy(o => o.Key).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var operations = key.OrderBy(o => o.Call).ToArray();
            if (!new Search(operations).Run())
                return new LinearizabilityVerdict(false, key.Key,
                    $"no order of these {operations.Length} operations explains every answer:{Environment.NewLine}" +
                    string.Join(Environment.NewLine, operations.Select(o => $"  {o}")));
        }
        return new LinearizabilityVerdict(true);
    }

    /// <summary>A key's state: absent, or a value at a version.</summary>
    private readonly record struct Register(bool Exists, string? Value, long Version)
    {
        public static readonly Register Absent = new(false, null, 0);
    }

    /// <summary>The outcome <paramref name="op"/> has from <paramref name="state"/>, and the state after it.</summary>
    private static (HistoryOutcome Outcome, string? Seen, long Version, Register Next) Apply(Register state, HistoryOperation op) =>
        op.Kind switch
        {
            HistoryKind.Read => state.Exists
                ? (HistoryOutcome.Ok, state.Value, state.Version, state)
                : (HistoryOutcome.NotFound, null, 0, state),
            HistoryKind.Create => state.Exists
                ? (HistoryOutcome.AlreadyExists, null, 0, state)
                : (HistoryOutcome.Ok, null, 1, new Register(true, op.Value, 1)),
            _ when !state.Exists => (HistoryOutcome.NotFound, null, 0, state),
            _ when op.ExpectedVersion is { } expected && expected != state.Version => (HistoryOutcome.VersionMismatch, null, 0, state),
            HistoryKind.Update => (HistoryOutcome.Ok, null, state.Version + 1, new Register(true, op.Value, state.Version + 1)),
            _ => (HistoryOutcome.Ok, null, state.Version, Register.Absent),
        };

    /// <summary>Whether <paramref name="op"/>, placed now, gives what its caller saw; and the state after it.</summary>
    private static bool TryPlace(Register state, HistoryOperation op, out Register next)
    {
        var (outcome, seen, version, after) = Apply(state, op);
        next = after;
        if (op.Outcome == HistoryOutcome.Unknown)
            return true;
        if (outcome != op.Outcome)
            return false;
        if (outcome != HistoryOutcome.Ok)
            return true;
        return version == op.SeenVersion && (op.Kind != HistoryKind.Read || seen == op.SeenValue);
    }

    private sealed class Search(HistoryOperation[] operations)
    {
        private readonly bool[] _placed = new bool[operations.Length];
        private readonly HashSet<(string Placed, Register State)> _seen = [];

        public bool Run() => Extend(Register.Absent);

        private bool Extend(Register state)
        {
            // Operations never answered need not take effect: once only they are left, the rest is explained.
            if (Enumerable.Range(0, operations.Length).All(i => _placed[i] || operations[i].Outcome == HistoryOutcome.Unknown))
                return true;
            if (!_seen.Add((PlacedKey(), state)))
                return false;

            // Any operation called before every pending one returned may be next.
            var earliestReturn = Enumerable.Range(0, operations.Length)
                .Where(i => !_placed[i] && operations[i].Outcome != HistoryOutcome.Unknown)
                .Min(i => operations[i].Return);
            for (var i = 0; i < operations.Length && operations[i].Call <= earliestReturn; i++)
            {
                if (_placed[i] || !TryPlace(state, operations[i], out var next))
                    continue;
                _placed[i] = true;
                if (Extend(next))
                    return true;
                _placed[i] = false;
            }
            return false;
        }

        private string PlacedKey() => string.Concat(_placed.Select(p => p ? '1' : '0'));
    }
}
