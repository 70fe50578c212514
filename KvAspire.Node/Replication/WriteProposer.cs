using DotNext.IO.Log;
using DotNext.Net.Cluster.Consensus.Raft;
using KvAspire.Node.Configuration;
using KvAspire.Node.Pipeline;
using KvAspire.Node.Storage;

namespace KvAspire.Node.Replication;

/// <summary>
/// Owns putting the leader's writes into Raft. One entry is proposed at a time, in arrival order: the
/// writes that arrive while it is being committed wait together for the next (up to
/// <see cref="NodeOptions.EntryWrites"/> writes and <see cref="NodeOptions.EntryBytes"/> bytes), so under
/// load one append, one replication round, one apply and one <c>log.X</c> record serve many writes, and a
/// lone write is proposed at once. The entry's context is its requests, in the order of its writes.
/// </summary>
public sealed class WriteProposer(IRaftCluster raft, NodeOptions options, TimeProvider clock)
{
    private readonly Lock _lock = new();
    private readonly List<Proposal> _waiting = [];
    private bool _proposing;
    private Leadership? _leadership;

    /// <summary>What a proposal carries: cancelled when this leadership ends; the term it was won in.</summary>
    private sealed record Leadership(CancellationToken Token, long Term);

    /// <summary>Writes that go into one entry, and its outcome.</summary>
    private sealed class Proposal
    {
        public List<PendingRequest> Requests { get; } = [];

        public int Bytes { get; set; }

        public TaskCompletionSource Committed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>
    /// Completes once the entry carrying <paramref name="request"/> is committed (and so handed to F2 and
    /// F3, where the request gets its result).
    /// </summary>
    /// <exception cref="NotLeaderException">This node does not lead, or stopped leading before the entry committed.</exception>
    public Task ProposeAsync(PendingRequest request)
    {
        var size = LogRecordFormat.OperationSize(request.Operation);
        Proposal proposal;
        var start = false;
        lock (_lock)
        {
            proposal = _waiting.Count > 0 ? _waiting[^1] : new Proposal();
            if (proposal.Requests.Count >= options.EntryWrites || (proposal.Requests.Count > 0 && proposal.Bytes + size > options.EntryBytes))
                proposal = new Proposal();
            if (proposal.Requests.Count == 0)
                _waiting.Add(proposal);
            proposal.Requests.Add(request);
            proposal.Bytes += size;
            if (!_proposing)
                _proposing = start = true;
        }
        if (start)
            _ = ProposeWhileWritesWaitAsync();
        return proposal.Committed.Task;
    }

    private async Task ProposeWhileWritesWaitAsync()
    {
        while (true)
        {
            Proposal next;
            lock (_lock)
            {
                if (_waiting.Count == 0)
                {
                    _proposing = false;
                    return;
                }
                next = _waiting[0];
                _waiting.RemoveAt(0);
            }
            try
            {
                await ReplicateAsync(next.Requests.ToArray());
                next.Committed.TrySetResult();
            }
            catch (Exception e)
            {
                next.Committed.TrySetException(e);
                _ = next.Committed.Task.Exception; // observed here: every caller waiting on it may have given up
            }
        }
    }

    private async Task ReplicateAsync(PendingRequest[] requests)
    {
        // Proposed with the term this leadership was won in, and abandoned (then tried again) if it ends.
        var held = await CurrentLeadershipAsync() ?? throw new NotLeaderException();
        var operations = Array.ConvertAll(requests, request => request.Operation);
        // The leader's clock proposes the commit timestamp; the state machine keeps it from going backwards.
        var payload = LogRecordFormat.EncodeOperations(clock.GetUtcNow().ToUnixTimeMilliseconds(), operations);
        try
        {
            await raft.ReplicateAsync(new BinaryLogEntry { Content = payload, Term = held.Term, Context = requests }, held.Token);
        }
        catch (OperationCanceledException e) when (held.Token.IsCancellationRequested)
        {
            throw new NotLeaderException(e);
        }
    }

    /// <summary>
    /// This node's leadership, as a proposal must carry it, or null when it does not lead or its first
    /// entry as leader is not committed yet (before that, DotNext's leadership token is cancelled too).
    /// DotNext's <c>ReplicateAsync(payload)</c> stamps an entry with the node's current term, and a leader
    /// that steps down raises that term before its leader state ends. A proposal in between appends an
    /// entry with the new leader's term at an index where the new leader has a different entry; Raft's log
    /// matching (same index and term, same entry) then keeps it, and this replica applies an entry no other
    /// has (found by the leader-pause nemesis). The term here is the term of the last entry of this node's
    /// own log while it leads: its first entry as leader and every one after carry its term, and a newer
    /// leader's entries are appended only after this leadership has ended.
    /// </summary>
    private async ValueTask<Leadership?> CurrentLeadershipAsync()
    {
        var token = raft.LeadershipToken;
        if (token.IsCancellationRequested)
            return null;
        if (_leadership is { } known && known.Token == token)
            return known;
        var last = raft.AuditTrail.LastEntryIndex;
        long term;
        try
        {
            term = await raft.AuditTrail.ReadAsync(new LastTermReader(), last, last, token);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            return null;
        }
        if (token.IsCancellationRequested)
            return null; // the term read may be a newer leader's
        return _leadership = new Leadership(token, term);
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
