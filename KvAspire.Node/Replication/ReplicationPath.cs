using DotNext.Net.Cluster.Consensus.Raft;
using Grpc.Core;
using KvAspire.Node.Pipeline;
using KvAspire.Node.Ring;
using KvAspire.Node.Storage;

namespace KvAspire.Node.Replication;

/// <summary>
/// What happens to a request for a key this position owns (R-REP-2, R-REP-3). The leader proposes a write
/// to its Raft group with the waiting command as the entry's context, so the command gets the result once
/// the entry is committed and applied; a follower hands the write to its leader over gRPC (an internal hop,
/// not a ring hop). A read first passes a linearizable read barrier (a follower asks the leader how far
/// the log is committed), then goes into F3 behind every entry committed before it.
/// Requests run side by side; each ends within <see cref="Timeout"/> with a result or UNAVAILABLE.
/// </summary>
public sealed class ReplicationPath(IRaftCluster raft, RaftGroup group, PipelineQueues queues, PeerClients peers, TimeProvider clock)
{
    /// <summary>How long a request may wait for a leader, a commit or a read barrier.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    private readonly HashSet<Task> _inFlight = [];

    /// <summary>Starts <paramref name="command"/> on its way; its caller hears back through the command.</summary>
    public void Submit(Command command)
    {
        var running = ExecuteAsync(command);
        lock (_inFlight)
            _inFlight.Add(running);
        _ = running.ContinueWith(done => { lock (_inFlight) _inFlight.Remove(done); }, TaskScheduler.Default);
    }

    /// <summary>Waits for every request under way.</summary>
    public Task DrainAsync()
    {
        lock (_inFlight)
            return Task.WhenAll([.. _inFlight]);
    }

    private async Task ExecuteAsync(Command command)
    {
        using var timeout = new CancellationTokenSource(Timeout, clock);
        try
        {
            if (!command.Operation.IsWrite)
            {
                await raft.ApplyReadBarrierAsync(timeout.Token);
                await queues.F3.Writer.WriteAsync(command, CancellationToken.None);
            }
            else if (raft.Leader is { IsRemote: false })
            {
                await ProposeAsync(command, timeout.Token);
            }
            else if (command.HandedToLeader)
            {
                throw new RpcException(new Status(StatusCode.Unavailable,
                    $"{group.Self.Name} is not the leader of position {group.Self.Position} (leader: {(raft.Leader is { } leader ? group.NodeOf(leader.EndPoint).Name : "none yet")}); retry"));
            }
            else
            {
                var leader = await raft.WaitForLeaderAsync(Timeout, timeout.Token);
                if (!leader.IsRemote)
                    await ProposeAsync(command, timeout.Token);
                else
                    command.Complete(await peers.SendToLeaderAsync(group.NodeOf(leader.EndPoint), command.Operation, command.HopsSoFar,
                        clock.GetUtcNow().UtcDateTime + Timeout));
            }
        }
        catch (RpcException e)
        {
            command.Fail(e);
        }
        catch (OperationCanceledException)
        {
            command.Fail(Unavailable($"position {group.Self.Position} did not answer within {Timeout.TotalSeconds:F0} s (no leader or no quorum)"));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Leadership lost, no quorum, the node stopping: the write may still commit, and a retry with
            // the same request id returns its first result.
            command.Fail(Unavailable($"position {group.Self.Position}: {e.Message}"));
        }
    }

    private async Task ProposeAsync(Command command, CancellationToken cancellationToken)
    {
        // The leader's clock proposes the commit timestamp; the state machine keeps it from going backwards.
        var payload = LogRecordFormat.EncodeCommand(clock.GetUtcNow().ToUnixTimeMilliseconds(), command.Operation);
        await raft.ReplicateAsync(payload, command, cancellationToken);
        // Committed and handed to F3: the answer follows once the log worker has synced it.
        await command.Result.WaitAsync(cancellationToken);
    }

    private static RpcException Unavailable(string detail) => new(new Status(StatusCode.Unavailable, detail));
}
