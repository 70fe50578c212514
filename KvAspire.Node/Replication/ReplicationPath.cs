using System.Diagnostics;
using System.Threading.Channels;
using DotNext.Net.Cluster;
using DotNext.Net.Cluster.Consensus.Raft;
using KvAspire.Cluster;
using KvAspire.Node.Configuration;
using KvAspire.Node.Consensus;
using KvAspire.Node.Errors;
using KvAspire.Node.Pipeline;
using KvAspire.Node.Telemetry;
using KvAspire.Operations;

namespace KvAspire.Node.Replication;

/// <summary>
/// Owns what happens to a request for a key this position owns, until its answer or its failure. On the
/// group's leader a write is proposed to Raft (<see cref="WriteProposer"/>, together with the writes
/// waiting with it), and the request gets its result once the entry is committed, applied and synced; a read passes a linearizable read
/// barrier, then enters F3 (through the state machine) behind every entry committed before it. A
/// follower hands a write to its leader over gRPC, together with the writes waiting with it
/// (<see cref="LeaderHandOff"/>; an internal hop, not a ring hop), and serves a read
/// itself: it asks the leader for a read index (<see cref="FollowerReads"/>: the leader confirms it still
/// leads, which DotNext's follower-side barrier does not), waits until it has applied that index, then
/// reads as the leader would.
/// Each request ends within the request timeout with an answer or UNAVAILABLE, tried again meanwhile
/// (with backoff) while the group has no leader or the leader cannot be reached. Only those failures are
/// tried again: anything else is a bug, answered INTERNAL and logged, not passed off as an outage.
/// </summary>
public sealed class ReplicationPath(IRaftCluster raft, RaftGroup group, CommittedOrder order,
    WriteProposer proposer, LeaderHandOff handOff, FollowerReads followerReads, NodeInfo self, NodeOptions options, TimeProvider clock, ILogger<ReplicationPath> logger)
{
    /// <exception cref="RequestFailedException">Unavailable (no leader or no quorum in time, or the node is stopping) or Internal.</exception>
    public async Task<Answer> ExecuteAsync(PendingRequest request, CancellationToken cancellationToken)
    {
        using var timer = new CancellationTokenSource(options.RequestTimeout, clock);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        var backoff = options.FirstRetryBackoff;
        Exception? lastFailure = null;
        try
        {
            // A leader change or a replica down is brief: try again until the deadline (a write carries
            // its request id, so a second try never applies it twice). A request handed over by a follower
            // is tried once: the follower, which knows its own deadline, does the retrying.
            while (true)
            {
                try
                {
                    return await AttemptAsync(request, timeout.Token);
                }
                catch (Exception e) when (IsWorthRetrying(e) && !request.HandedToLeader && !timeout.IsCancellationRequested)
                {
                    lastFailure = e;
                }
                await Task.Delay(backoff, clock, timeout.Token);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, options.MaxRetryBackoff.Ticks));
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw; // the caller gave up: gRPC answers CANCELLED
        }
        catch (RequestFailedException)
        {
            throw;
        }
        catch (OperationCanceledException)
        {
            throw Unavailable($"position {group.Self.Position} did not answer within {options.RequestTimeout.TotalSeconds:F0} s " +
                              $"(no leader or no quorum){(lastFailure is null ? "" : $": {lastFailure.Message}")}");
        }
        catch (LeaderOperationException e)
        {
            // Leadership lost or no quorum on a request handed over: the write may still commit, and a
            // retry with the same request id returns its first result.
            throw Unavailable($"position {group.Self.Position}: {e.Message}");
        }
        catch (IOException e)
        {
            // The log cannot be written (the node is stopping, FailStop): nothing was acknowledged.
            throw Unavailable($"{group.Self.Name}: {e.Message}");
        }
        catch (Exception e) when (e is ObjectDisposedException or ChannelClosedException)
        {
            throw Unavailable($"{group.Self.Name} is stopping; retry on another replica");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            NodeLog.RequestFailed(logger, request.Operation.Kind.ToString(), group.Self.Position, e);
            throw new RequestFailedException(FailureKind.Internal, $"{group.Self.Name}: {e.GetType().Name}: {e.Message}", e);
        }
    }

    /// <summary>A page of this position's keys, read as a read is: behind a barrier at the leader, or a read index from it.</summary>
    /// <exception cref="RequestFailedException">As <see cref="ExecuteAsync"/>.</exception>
    public async Task<OperationResult> ListAsync(ListQuery query, ActivityContext traceContext, int hopsSoFar, CancellationToken cancellationToken)
    {
        var request = new PendingRequest(new KvOperation(OperationKind.List, query.Prefix, List: query), traceContext, hopsSoFar)
        {
            Route = (0, group.Self.Position),
        };
        return (await ExecuteAsync(request, cancellationToken)).Result;
    }

    /// <summary>
    /// This position's revision at a linearizable point: a read (of the empty key, which no write can
    /// create), so at or past every change acknowledged before the call.
    /// </summary>
    /// <exception cref="RequestFailedException">As <see cref="ExecuteAsync"/>.</exception>
    public async Task<long> ReadRevisionAsync(CancellationToken cancellationToken)
    {
        var request = new PendingRequest(new KvOperation(OperationKind.Read, ""), default, 0) { Route = (0, group.Self.Position) };
        return (await ExecuteAsync(request, cancellationToken)).Result.Revision;
    }

    private async Task<Answer> AttemptAsync(PendingRequest request, CancellationToken cancellationToken)
    {
        var leader = raft.Leader;
        if (leader is null && !request.HandedToLeader)
            leader = await WaitForLeaderAsync(cancellationToken);
        if (leader is { IsRemote: false })
            return new Answer(await ExecuteAsLeaderAsync(request, cancellationToken), 0, self.GrpcEndPoint);
        if (request.HandedToLeader)
        {
            throw Unavailable($"{group.Self.Name} is not the leader of position {group.Self.Position} " +
                              $"(leader: {(leader is null ? "none yet" : group.NodeOf(leader.EndPoint).Name)}); retry");
        }
        if (request.Operation.IsWrite)
            return await handOff.HandOffAsync(request, cancellationToken);
        return new Answer(await ReadAsFollowerAsync(request, cancellationToken), 0, group.NodeOf(leader!.EndPoint).GrpcEndPoint);
    }

    /// <summary>
    /// The leader's side of a follower's read (the Replica service's ReadIndex): once a heartbeat round has
    /// confirmed this node still leads and everything it had committed is applied, the index applied here,
    /// at or past the commit index when the call arrived.
    /// </summary>
    /// <exception cref="RequestFailedException">Unavailable: this node does not lead, cannot reach a quorum, or stopped leading meanwhile.</exception>
    public async Task<long> ConfirmReadIndexAsync(CancellationToken cancellationToken)
    {
        await ConfirmLeadsAsync(cancellationToken);
        return order.OrderedIndex;
    }

    /// <summary>
    /// Raft's ReadIndex on the leader: a heartbeat round confirms this node still leads, and every entry it
    /// holds is applied. When leadership ends during it, DotNext's barrier goes on as a follower's would
    /// (it asks the new leader over HTTP, unconfirmed, which may fail as any call does): so whatever ends
    /// it, and leadership ended by the time it returns, are one outcome: not confirmed, ask again.
    /// </summary>
    /// <exception cref="RequestFailedException">Unavailable: this node does not lead, cannot reach a quorum, or stopped leading meanwhile.</exception>
    private async Task ConfirmLeadsAsync(CancellationToken cancellationToken)
    {
        var leading = raft.LeadershipToken;
        // On a follower DotNext's barrier would only ask the leader, unconfirmed.
        if (raft.Leader is not { IsRemote: false } || leading.IsCancellationRequested)
            throw Unavailable($"{group.Self.Name} is not the leader of position {group.Self.Position}; retry");
        try
        {
            await raft.ApplyReadBarrierAsync(ReadBarrierType.Strong, cancellationToken);
        }
        catch (Exception e) when (e is LeaderOperationException or TimeoutException or OperationCanceledException or IOException or HttpRequestException
                                   && !cancellationToken.IsCancellationRequested)
        {
            throw RequestFailedException.Unavailable($"{group.Self.Name} could not confirm it leads position {group.Self.Position}: {e.Message}; retry", e);
        }
        if (leading.IsCancellationRequested)
            throw Unavailable($"{group.Self.Name} stopped leading position {group.Self.Position}; retry");
    }

    private async Task<OperationResult> ReadAsFollowerAsync(PendingRequest request, CancellationToken cancellationToken)
    {
        var index = await followerReads.ReadIndexAsync(cancellationToken);
        // Applied through that index, F3 holds every entry the leader had committed when it confirmed.
        await raft.AuditTrail.WaitForApplyAsync(index, cancellationToken);
        await order.EnqueueReadAsync(request);
        return await request.Result.WaitAsync(cancellationToken);
    }

    private async Task<OperationResult> ExecuteAsLeaderAsync(PendingRequest request, CancellationToken cancellationToken)
    {
        if (!request.Operation.IsWrite)
        {
            // Confirmed leading with every entry it holds applied, the map, read behind them in F3, shows
            // every write acknowledged anywhere before.
            await ConfirmLeadsAsync(cancellationToken);
            await order.EnqueueReadAsync(request);
            return await request.Result.WaitAsync(cancellationToken);
        }
        await proposer.ProposeAsync(request).WaitAsync(cancellationToken);
        // Committed and handed to F2 and F3: the answer follows once the log worker has synced it.
        return await request.Result.WaitAsync(cancellationToken);
    }

    private async Task<IClusterMember> WaitForLeaderAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await raft.WaitForLeaderAsync(options.RequestTimeout, cancellationToken);
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            // No leader yet, or none this node can see: an election is under way.
            throw RequestFailedException.Unavailable($"position {group.Self.Position} has no leader yet", e);
        }
    }

    /// <summary>Failures that a moment later, or on the next leader, may not happen again.</summary>
    private static bool IsWorthRetrying(Exception e) => e is RequestFailedException { IsWorthRetrying: true } or LeaderOperationException;

    private static RequestFailedException Unavailable(string detail) => RequestFailedException.Unavailable(detail);
}
