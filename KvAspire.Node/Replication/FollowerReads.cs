using DotNext.Net.Cluster.Consensus.Raft;
using KvAspire.Node.Configuration;
using KvAspire.Node.Peers;
using KvAspire.Node.Telemetry;

namespace KvAspire.Node.Replication;

/// <summary>
/// Owns a follower's read index (Raft's ReadIndex, as etcd serves reads on followers): reads that arrive
/// while no ReadIndex call is under way start one to the leader; those that arrive while one is under way
/// wait for the next, because the index of a call sent before a read arrived may predate a write
/// acknowledged before it. So one call to the leader serves every read gathered meanwhile, however many
/// callers there are, and the leader's heartbeat round confirms it still led when it answered.
/// </summary>
public sealed class FollowerReads(IRaftCluster raft, RaftGroup group, PeerClients peers, NodeOptions options, TimeProvider clock)
{
    private readonly Lock _lock = new();
    private TaskCompletionSource<long>? _next;
    private bool _asking;

    /// <summary>An index at or past the leader's commit index as of some moment after this call began.</summary>
    /// <exception cref="Grpc.Core.RpcException">UNAVAILABLE: the leader could not be asked, or no longer leads.</exception>
    /// <exception cref="NotLeaderException">No other replica leads now (none does, or this one does).</exception>
    public Task<long> ReadIndexAsync(CancellationToken cancellationToken)
    {
        TaskCompletionSource<long> round;
        var start = false;
        lock (_lock)
        {
            round = _next ??= new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (!_asking)
                _asking = start = true;
        }
        if (start)
            _ = AskWhileReadsWaitAsync();
        return round.Task.WaitAsync(cancellationToken);
    }

    private async Task AskWhileReadsWaitAsync()
    {
        NodeTelemetry.LeaveRequestTrace();
        while (true)
        {
            TaskCompletionSource<long> round;
            lock (_lock)
            {
                if (_next is null)
                {
                    _asking = false;
                    return;
                }
                round = _next;
                _next = null;
            }
            try
            {
                // Asked of whoever leads now: any leader's confirmed index from after the reads arrived will do.
                if (raft.Leader is not { IsRemote: true } leader)
                    throw new NotLeaderException();
                round.TrySetResult(await peers.ReadIndexAsync(group.NodeOf(leader.EndPoint), clock.GetUtcNow().UtcDateTime + options.LeaderHandOffTimeout));
            }
            catch (Exception e)
            {
                round.TrySetException(e);
                _ = round.Task.Exception; // observed here: every read waiting on it may have given up
            }
        }
    }
}
