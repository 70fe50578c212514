using DotNext.IO.Log;
using DotNext.Net.Cluster.Consensus.Raft;

namespace KvAspire.Node.Replication;

/// <summary>
/// This node's leadership, as a proposal must carry it: the leader state's token and its term.
/// DotNext's <c>ReplicateAsync(payload)</c> stamps an entry with the node's current term, and a leader
/// that steps down raises that term before its leader state ends. A proposal in between appends an entry
/// with the new leader's term at an index where the new leader has a different entry; Raft's log
/// matching (same index and term, same entry) then keeps it, and this replica applies an entry no other
/// has (found by the leader-pause nemesis). The term here is the term of the last entry of this node's
/// own log while it leads: its first entry as leader and every one after carry its term, and a newer
/// leader's entries are appended only after this leadership has ended.
/// </summary>
public sealed class Leadership(IRaftCluster raft)
{
    private Held? _held;

    /// <summary>What a proposal carries: cancelled when this leadership ends; the term it was won in.</summary>
    public sealed record Held(CancellationToken Token, long Term);

    /// <summary>
    /// This node's leadership, or null when it does not lead or its first entry as leader is not
    /// committed yet (before that, DotNext's leadership token is cancelled too).
    /// </summary>
    public async ValueTask<Held?> CurrentAsync(CancellationToken cancellationToken)
    {
        var token = raft.LeadershipToken;
        if (token.IsCancellationRequested)
            return null;
        if (Volatile.Read(ref _held) is { } known && known.Token == token)
            return known;
        var last = raft.AuditTrail.LastEntryIndex;
        var term = await raft.AuditTrail.ReadAsync(new LastTermReader(), last, last, cancellationToken);
        if (token.IsCancellationRequested)
            return null; // the term read may be a newer leader's
        var held = new Held(token, term);
        Volatile.Write(ref _held, held);
        return held;
    }

    private sealed class LastTermReader : ILogEntryConsumer<IRaftLogEntry, long>
    {
        public bool LogEntryMetadataOnly => true;

        public ValueTask<long> ReadAsync<TEntry, TList>(TList entries, long? snapshotIndex, CancellationToken token)
            where TEntry : IRaftLogEntry
            where TList : IReadOnlyList<TEntry> =>
            entries.Count > 0
                ? ValueTask.FromResult(entries[^1].Term)
                : ValueTask.FromException<long>(new InvalidOperationException("the log returned no entry for its last index"));
    }
}
