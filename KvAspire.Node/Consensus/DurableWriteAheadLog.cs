using DotNext.IO.Log;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using KvAspire.Node.Pipeline;
using KvAspire.Node.Storage;

namespace KvAspire.Node.Consensus;

/// <summary>
/// DotNext's write-ahead log kept in memory, with <c>log.X</c> as its durable copy (F2, <see cref="LogWorker"/>):
/// one fsync per batch of entries on each member, instead of DotNext's own syncs of its pages and checkpoint.
/// Every append is handed to F2 in the order Raft makes it. A follower answers AppendEntries only once the
/// entries it answers for are synced; the leader sends its new entry to the followers at once and commits
/// an index only once its own copy is synced (Raft's persistence rule, in etcd's order). On start, the
/// entries <c>log.X</c> holds after the snapshot are handed back before Raft runs. Term and vote stay in
/// DotNext's own file, written through at each change (<see cref="RaftLogLocation"/>).
/// </summary>
public sealed class DurableWriteAheadLog(WriteAheadLog.Options options, IStateMachine stateMachine, LogWorker log, RecoveredState recovered)
    : WriteAheadLog(options, stateMachine), IAuditTrail<IRaftLogEntry>, IAuditTrail
{
    // Appends reach F2 in the order Raft makes them: a cut (a follower's log replaced from an index) never
    // overtakes an append it replaces.
    private readonly SemaphoreSlim _appendOrder = new(1, 1);

    /// <summary>Hands the recovered entries back to Raft, then lets the base log apply what is committed.</summary>
    public override async Task InitializeAsync(CancellationToken token = default)
    {
        if (recovered.Entries.Count > 0)
        {
            await AppendAsync(new EntryProducer(recovered.Entries), recovered.Entries[0].Index, skipCommitted: false, token);
            await CommitAsync(recovered.CommitIndex, token);
        }
        await base.InitializeAsync(token);
    }

    async ValueTask<long> IAuditTrail<IRaftLogEntry>.AppendAsync<TEntry>(TEntry entry, CancellationToken token)
    {
        var buffered = await BufferedRaftEntry.CopyAsync(entry, token);
        await _appendOrder.WaitAsync(token);
        try
        {
            var index = await AppendAsync(buffered, token);
            log.Submit(index, [ToRaftEntry(index, buffered)]);
            return index;
        }
        finally
        {
            _appendOrder.Release();
        }
    }

    async ValueTask IAuditTrail<IRaftLogEntry>.AppendAsync<TEntry>(TEntry entry, long startIndex, CancellationToken token)
    {
        if (entry.IsSnapshot)
        {
            // The leader's snapshot: the state machine writes it as snap.X, and F2 starts log.X after it.
            await AppendAsync(entry, startIndex, token);
            return;
        }
        var buffered = await BufferedRaftEntry.CopyAsync(entry, token);
        await AppendInOrderAsync(startIndex, [buffered], async () => await AppendAsync(buffered, startIndex, token), token);
    }

    async ValueTask IAuditTrail<IRaftLogEntry>.AppendAsync<TEntry>(ILogEntryProducer<TEntry> entries, long startIndex, bool skipCommitted, CancellationToken token)
    {
        if (entries.RemainingCount == 0)
        {
            await AppendAsync(entries, startIndex, skipCommitted, token);
            return;
        }
        var buffered = new List<BufferedRaftEntry>((int)Math.Min(entries.RemainingCount, 1024));
        while (await entries.MoveNextAsync())
            buffered.Add(await BufferedRaftEntry.CopyAsync(entries.Current, token));
        await AppendInOrderAsync(startIndex, buffered,
            async () => await AppendAsync(new EntryProducer(buffered), startIndex, skipCommitted, token), token);
    }

    /// <summary>The follower's append: into memory, to F2, and back once synced.</summary>
    private async Task AppendInOrderAsync(long startIndex, List<BufferedRaftEntry> entries, Func<Task> append, CancellationToken token)
    {
        long last;
        await _appendOrder.WaitAsync(token);
        try
        {
            // Entries up to the commit index are the same everywhere: Raft skips them, and log.X has them.
            var committed = LastCommittedEntryIndex;
            await append();
            var first = Math.Max(startIndex, committed + 1);
            last = startIndex + entries.Count - 1;
            if (first > last)
                return;
            var fresh = new List<RaftEntry>((int)(last - first + 1));
            for (var index = first; index <= last; index++)
                fresh.Add(ToRaftEntry(index, entries[(int)(index - startIndex)]));
            log.Submit(first, fresh);
        }
        finally
        {
            _appendOrder.Release();
        }
        await log.WaitDurableAsync(last, token);
    }

    async ValueTask<long> IAuditTrail.CommitAsync(long endIndex, CancellationToken token)
    {
        await log.WaitDurableAsync(endIndex, token);
        var committed = await CommitAsync(endIndex, token);
        log.Committed(LastCommittedEntryIndex);
        return committed;
    }

    private static RaftEntry ToRaftEntry(long index, BufferedRaftEntry entry) =>
        new(index, entry.Term, entry.Content, entry.CommandId, entry.IsConfiguration);

    /// <summary>Entries handed to DotNext's log as one append: a follower's buffered batch, or the recovered log.</summary>
    private sealed class EntryProducer : ILogEntryProducer<BufferedRaftEntry>
    {
        private readonly IReadOnlyList<BufferedRaftEntry> _entries;
        private int _next = -1;

        public EntryProducer(IReadOnlyList<BufferedRaftEntry> entries) => _entries = entries;

        public EntryProducer(IReadOnlyList<RaftEntry> entries) =>
            _entries = [.. entries.Select(e => new BufferedRaftEntry { Content = e.Body, Term = e.Term, CommandId = e.CommandId, IsConfiguration = e.IsMembership })];

        public long RemainingCount => _entries.Count - _next - 1;

        public BufferedRaftEntry Current => _entries[_next];

        public ValueTask<bool> MoveNextAsync() => ValueTask.FromResult(++_next < _entries.Count);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
