using DotNext.Net.Cluster.Consensus.Raft;
using KvAspire.Node.Concurrency;
using KvAspire.Node.Configuration;
using KvAspire.Node.Consensus;
using KvAspire.Node.Errors;
using KvAspire.Node.Peers;

namespace KvAspire.Node.Replication;

/// <summary>
/// Owns a follower's read index (Raft's ReadIndex, as etcd serves reads on followers): reads that arrive
/// while no ReadIndex call is under way start one to the leader; those that arrive while one is under way
/// wait for the next, because the index of a call sent before a read arrived may predate a write
/// acknowledged before it. So one call to the leader serves every read gathered meanwhile, however many
/// callers there are, and the leader's heartbeat round confirms it still led when it answered.
/// </summary>
public sealed class FollowerReads
{
    private readonly IRaftCluster _raft;
    private readonly RaftGroup _group;
    private readonly PeerClients _peers;
    private readonly NodeOptions _options;
    private readonly TimeProvider _clock;
    private readonly CallBatcher<TaskCompletionSource<long>> _calls;

    public FollowerReads(IRaftCluster raft, RaftGroup group, PeerClients peers, NodeOptions options, TimeProvider clock)
    {
        (_raft, _group, _peers, _options, _clock) = (raft, group, peers, options, clock);
        // Every read waiting when a call starts goes in it: a read index serves any number of reads.
        _calls = new CallBatcher<TaskCompletionSource<long>>(int.MaxValue, int.MaxValue, AskAsync);
    }

    /// <summary>An index at or past the leader's commit index as of some moment after this call began.</summary>
    /// <exception cref="RequestFailedException">
    /// Unavailable: no other replica leads now, or the leader could not be asked, or no longer leads.
    /// </exception>
    public async Task<long> ReadIndexAsync(CancellationToken cancellationToken)
    {
        var index = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        await _calls.AddAsync(index, 0).WaitAsync(cancellationToken);
        return await index.Task;
    }

    private async Task AskAsync(TaskCompletionSource<long>[] reads)
    {
        // Asked of whoever leads now: any leader's confirmed index from after the reads arrived will do.
        if (_raft.Leader is not { IsRemote: true } leader)
            throw RequestFailedException.Unavailable($"no other replica leads position {_group.Self.Position} now");
        var index = await _peers.ReadIndexAsync(_group.NodeOf(leader.EndPoint), _clock.GetUtcNow().UtcDateTime + _options.LeaderHandOffTimeout);
        foreach (var read in reads)
            read.SetResult(index);
    }
}
