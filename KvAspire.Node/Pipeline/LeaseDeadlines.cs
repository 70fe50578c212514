using KvAspire.Node.Storage;
using KvAspire.Operations;

namespace KvAspire.Node.Pipeline;

/// <summary>
/// When each of the position's leases is due, on this node's monotonic clock, as the applied entries say:
/// a grant or keep-alive gives it its whole TTL from the moment it is applied here (never before the
/// client sent it, so never early), a checkpoint at most the time its leader recorded, a restart, an
/// installed snapshot or a lease arriving with its key from another position the time left at its last record, from then. Every replica keeps them, so a new
/// leader starts from its own (never from the full TTL, which would keep a dying lease alive across
/// elections), given the grace of one election for the keep-alives that could not commit meanwhile
/// (<see cref="Promote"/>); only the leader acts on them (<c>LeaseKeeper</c>).
/// </summary>
public sealed class LeaseDeadlines
{
    private readonly TimeProvider _clock;
    private readonly Lock _gate = new();
    private readonly Dictionary<long, Deadline> _deadlines = [];

    public LeaseDeadlines(RecoveredState recovered, TimeProvider clock)
    {
        _clock = clock;
        Reset(recovered.Map.ServedLeases);
    }

    private readonly record struct Deadline(long DueTimestamp, long Renewals, long TtlMs);

    public int Count
    {
        get { lock (_gate) return _deadlines.Count; }
    }

    /// <summary>Every lease the position serves, from its last record's time left, from now.</summary>
    public void Reset(IEnumerable<KeyValuePair<long, StoredLease>> leases)
    {
        var now = _clock.GetTimestamp();
        lock (_gate)
        {
            _deadlines.Clear();
            foreach (var (id, lease) in leases)
                _deadlines[id] = new Deadline(now + Ticks(lease.RemainingMs), lease.Renewals, lease.TtlMs);
        }
    }

    public void Apply(IReadOnlyList<LeaseChange> changes)
    {
        if (changes.Count == 0)
            return;
        var now = _clock.GetTimestamp();
        lock (_gate)
        {
            foreach (var change in changes)
            {
                switch (change.Kind)
                {
                    case LeaseChangeKind.Removed:
                        _deadlines.Remove(change.Lease);
                        break;
                    case LeaseChangeKind.Renewed:
                        _deadlines[change.Lease] = new Deadline(now + Ticks(change.RemainingMs), change.Renewals, change.RemainingMs);
                        break;
                    case LeaseChangeKind.Arrived:
                        _deadlines[change.Lease] = new Deadline(now + Ticks(change.RemainingMs), change.Renewals, change.TtlMs);
                        break;
                    case LeaseChangeKind.Checkpointed when _deadlines.TryGetValue(change.Lease, out var known):
                        _deadlines[change.Lease] = known with { DueTimestamp = Math.Min(known.DueTimestamp, now + Ticks(change.RemainingMs)) };
                        break;
                }
            }
        }
    }

    /// <summary>
    /// This node now leads: every lease lives at least <paramref name="grace"/> from now, for the keep-alives
    /// its holders could not get committed while the position had no leader (as etcd's lessor does when promoted).
    /// </summary>
    public void Promote(TimeSpan grace)
    {
        var floor = _clock.GetTimestamp() + Ticks((long)grace.TotalMilliseconds);
        lock (_gate)
        {
            foreach (var (id, deadline) in _deadlines.ToList())
                _deadlines[id] = deadline with { DueTimestamp = Math.Max(deadline.DueTimestamp, floor) };
        }
    }

    /// <summary>The leases due now, each with the renewals its expiry must find (a keep-alive since cancels it).</summary>
    public IReadOnlyList<(long Lease, long Renewals)> Due()
    {
        var now = _clock.GetTimestamp();
        lock (_gate)
            return [.. _deadlines.Where(d => d.Value.DueTimestamp <= now).Select(d => (d.Key, d.Value.Renewals))];
    }

    /// <summary>The time left of each lease not renewed within <paramref name="recent"/>, for a checkpoint.</summary>
    public IReadOnlyList<LeaseCheckpoint> Checkpoints(TimeSpan recent)
    {
        var now = _clock.GetTimestamp();
        lock (_gate)
        {
            return [.. from d in _deadlines
                       let remaining = Milliseconds(d.Value.DueTimestamp - now)
                       where remaining > 0 && remaining < d.Value.TtlMs - (long)recent.TotalMilliseconds
                       select new LeaseCheckpoint(d.Key, d.Value.Renewals, remaining)];
        }
    }

    /// <summary>How long <paramref name="lease"/> has left by this node's clock, or null when it knows no such lease.</summary>
    public TimeSpan? Remaining(long lease)
    {
        var now = _clock.GetTimestamp();
        lock (_gate)
            return _deadlines.TryGetValue(lease, out var deadline) ? TimeSpan.FromMilliseconds(Math.Max(0, Milliseconds(deadline.DueTimestamp - now))) : null;
    }

    private long Ticks(long milliseconds) => milliseconds * _clock.TimestampFrequency / 1000;

    private long Milliseconds(long ticks) => ticks * 1000 / _clock.TimestampFrequency;
}
