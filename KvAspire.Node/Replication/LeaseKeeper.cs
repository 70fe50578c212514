using DotNext.Net.Cluster.Consensus.Raft;
using KvAspire.Node.Configuration;
using KvAspire.Node.Errors;
using KvAspire.Node.Pipeline;
using KvAspire.Node.Telemetry;
using KvAspire.Operations;

namespace KvAspire.Node.Replication;

/// <summary>
/// The leader's side of leases: it proposes the expiry of each lease its deadlines say is due (a revoke that
/// applies only if the lease was not kept alive meanwhile), and every <see cref="NodeOptions.LeaseCheckpointInterval"/>
/// a checkpoint of the time each lease not renewed since has left, so a new leader neither resets it to its
/// full TTL nor expires it early. On winning an election it gives every lease one election's grace first
/// (<see cref="LeaseDeadlines.Promote"/>). A follower's clock decides nothing: followers only keep their deadlines.
/// </summary>
public sealed class LeaseKeeper(IRaftCluster raft, LeaseDeadlines deadlines, WriteProposer proposer, NodeOptions options, TimeProvider clock,
    ILogger<LeaseKeeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var lastCheckpoint = clock.GetTimestamp();
        CancellationToken? led = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            await Task.Delay(options.LeaseCheckInterval, clock, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            var leadership = raft.LeadershipToken;
            if (leadership.IsCancellationRequested || deadlines.Count == 0)
            {
                lastCheckpoint = clock.GetTimestamp();
                continue;
            }
            if (led != leadership)
            {
                deadlines.Promote(options.UpperElectionTimeout);
                led = leadership;
            }
            if (deadlines.Due() is { Count: > 0 } due)
            {
                if (await TryProposeAsync([.. due.Select(d => new KvOperation(OperationKind.LeaseRevoke, "", ExpectedVersion: d.Renewals, Lease: d.Lease))]))
                    NodeLog.LeasesExpired(logger, due.Count, string.Join(", ", due.Select(d => d.Lease)));
            }
            if (clock.GetElapsedTime(lastCheckpoint) >= options.LeaseCheckpointInterval)
            {
                lastCheckpoint = clock.GetTimestamp();
                if (deadlines.Checkpoints(options.LeaseCheckpointInterval) is { Count: > 0 } checkpoints)
                    await TryProposeAsync([new KvOperation(OperationKind.LeaseCheckpoint, "", LeaseIds.EncodeCheckpoints(checkpoints))]);
            }
        }
    }

    private async Task<bool> TryProposeAsync(KvOperation[] operations)
    {
        try
        {
            await proposer.ProposeAsync(operations);
            return true;
        }
        catch (RequestFailedException)
        {
            return false; // no longer leads: the next leader decides from its own deadlines
        }
    }
}
