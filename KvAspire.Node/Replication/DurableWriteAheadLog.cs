using DotNext.IO.Log;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;

namespace KvAspire.Node.Replication;

/// <summary>
/// DotNext's write-ahead log with Raft's persistence rule restored: a follower answers AppendEntries only
/// once the entries it answers for are on disk. The base log writes an append to mapped memory and leaves
/// the flush (and the checkpoint that makes the entries count on restart) to a background task, so a
/// follower killed right after answering came back without entries the leader had counted toward a
/// majority. The follower's path appends a whole AppendEntries batch through this method, so there is one
/// flush per batch, not per entry. Term and vote changes are already written through by the base log, and
/// the leader's own copy is flushed before it commits.
/// </summary>
public sealed class DurableWriteAheadLog(WriteAheadLog.Options options, IStateMachine stateMachine)
    : WriteAheadLog(options, stateMachine), IAuditTrail<IRaftLogEntry>
{
    async ValueTask IAuditTrail<IRaftLogEntry>.AppendAsync<TEntry>(ILogEntryProducer<TEntry> entries, long startIndex, bool skipCommitted, CancellationToken token)
    {
        await AppendAsync(entries, startIndex, skipCommitted, token);
        await FlushAsync(token);
    }
}
