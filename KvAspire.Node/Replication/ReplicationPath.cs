using System.Threading.Channels;
using DotNext.Net.Cluster;
using DotNext.Net.Cluster.Consensus.Raft;
using Grpc.Core;
using KvAspire.Node.Configuration;
using KvAspire.Node.Pipeline;
using KvAspire.Node.Ring;
using KvAspire.Node.Storage;
using KvAspire.Node.Telemetry;

namespace KvAspire.Node.Replication;

/// <summary>
/// What happens to a request for a key this position owns (R-REP-2, R-REP-3), on the group's leader: a
/// write is proposed to Raft with the waiting command as the entry's context, so the command gets the
/// result once the entry is committed and applied; a read passes a linearizable read barrier, then goes
/// into F3 behind every entry committed before it. A follower hands both to its leader over gRPC (an
/// internal hop, not a ring hop): DotNext's follower-side barrier asks the leader for its commit index
/// without the leader confirming it still leads, which a leader unaware of its successor answers stale.
/// Requests run side by side; each ends within the request timeout with a result or UNAVAILABLE, tried
/// again meanwhile (with backoff) while the group has no leader or the leader cannot be reached. Only
/// those failures are tried again: anything else is a bug, answered INTERNAL and logged, not passed off
/// as an outage.
/// </summary>
public sealed class ReplicationPath(IRaftCluster raft, Leadership leadership, RaftGroup group, PipelineQueues queues, PeerClients peers, NodeTimings timings,
    TimeProvider clock, ILogger<ReplicationPath> logger)
{
    private readonly InFlightTasks _inFlight = new();

    /// <summary>Starts <paramref name="command"/> on its way; its caller hears back through the command.</summary>
    public void Submit(Command command) => _inFlight.Track(ExecuteAsync(command));

    /// <summary>Waits for every request under way.</summary>
    public Task DrainAsync() => _inFlight.WhenAllAsync();

    private async Task ExecuteAsync(Command command)
    {
        using var timeout = new CancellationTokenSource(timings.RequestTimeout, clock);
        var deadline = clock.GetUtcNow().UtcDateTime + timings.RequestTimeout;
        var backoff = timings.FirstRetryBackoff;
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
                    await AttemptAsync(command, deadline, timeout.Token);
                    return;
                }
                catch (Exception e) when (IsWorthRetrying(e) && !command.HandedToLeader && !timeout.IsCancellationRequested)
                {
                    lastFailure = e;
                }
                await Task.Delay(backoff, clock, timeout.Token);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, timings.MaxRetryBackoff.Ticks));
            }
        }
        catch (RpcException e)
        {
            command.Fail(e);
        }
        catch (OperationCanceledException)
        {
            command.Fail(Unavailable($"position {group.Self.Position} did not answer within {timings.RequestTimeout.TotalSeconds:F0} s " +
                                     $"(no leader or no quorum){(lastFailure is null ? "" : $": {lastFailure.Message}")}"));
        }
        catch (LeaderOperationException e)
        {
            // Leadership lost or no quorum on a request handed over: the write may still commit, and a
            // retry with the same request id returns its first result.
            command.Fail(Unavailable($"position {group.Self.Position}: {e.Message}"));
        }
        catch (Exception e) when (e is ObjectDisposedException or ChannelClosedException)
        {
            command.Fail(Unavailable($"{group.Self.Name} is stopping; retry on another replica"));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            NodeLog.RequestFailed(logger, command.Operation.Kind.ToString(), group.Self.Position, e);
            command.Fail(new RpcException(new Status(StatusCode.Internal, $"{group.Self.Name}: {e.GetType().Name}: {e.Message}")));
        }
    }

    private async Task AttemptAsync(Command command, DateTime deadline, CancellationToken cancellationToken)
    {
        var leader = raft.Leader;
        if (leader is null && !command.HandedToLeader)
            leader = await WaitForLeaderAsync(cancellationToken);
        if (leader is { IsRemote: false })
            await ExecuteAsLeaderAsync(command, cancellationToken);
        else if (command.HandedToLeader)
            throw Unavailable($"{group.Self.Name} is not the leader of position {group.Self.Position} " +
                              $"(leader: {(leader is null ? "none yet" : group.NodeOf(leader.EndPoint).Name)}); retry");
        else
        {
            // A leader that does not answer within an attempt may be frozen: by then the others have
            // elected another, so the next try asks again who leads.
            var attemptDeadline = clock.GetUtcNow().UtcDateTime + timings.LeaderHandOffTimeout;
            command.Complete(await peers.SendToLeaderAsync(group.NodeOf(leader!.EndPoint), command.Operation, command.HopsSoFar,
                attemptDeadline < deadline ? attemptDeadline : deadline));
        }
    }

    private async Task ExecuteAsLeaderAsync(Command command, CancellationToken cancellationToken)
    {
        if (!command.Operation.IsWrite)
        {
            // ReadIndex: a heartbeat round confirms this node still leads, and every entry it holds is
            // applied, so the map, read behind them in F3, shows every write acknowledged anywhere before.
            await raft.ApplyReadBarrierAsync(ReadBarrierType.Strong, cancellationToken);
            await queues.F3.Writer.WriteAsync(command, CancellationToken.None);
            return;
        }
        // Proposed with the term this leadership was won in, and abandoned (then tried again) if it ends.
        var held = await leadership.CurrentAsync(cancellationToken) ?? throw new NotLeaderException();
        using var whileLeading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, held.Token);
        // The leader's clock proposes the commit timestamp; the state machine keeps it from going backwards.
        var payload = LogRecordFormat.EncodeCommand(clock.GetUtcNow().ToUnixTimeMilliseconds(), command.Operation);
        try
        {
            await raft.ReplicateAsync(new BinaryLogEntry { Content = payload, Term = held.Term, Context = command }, whileLeading.Token);
        }
        catch (OperationCanceledException e) when (held.Token.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new NotLeaderException(e);
        }
        // Committed and handed to F3: the answer follows once the log worker has synced it.
        await command.Result.WaitAsync(cancellationToken);
    }

    private async Task<IClusterMember> WaitForLeaderAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await raft.WaitForLeaderAsync(timings.RequestTimeout, cancellationToken);
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            // No leader yet, or none this node can see: an election is under way.
            throw new NotLeaderException(e);
        }
    }

    /// <summary>Failures that a moment later, or on the next leader, may not happen again.</summary>
    private static bool IsWorthRetrying(Exception e) =>
        e is RpcException { StatusCode: StatusCode.Unavailable or StatusCode.DeadlineExceeded } or LeaderOperationException;

    private static RpcException Unavailable(string detail) => new(new Status(StatusCode.Unavailable, detail));
}
