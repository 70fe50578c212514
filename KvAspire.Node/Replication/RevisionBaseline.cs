using DotNext.Net.Cluster.Consensus.Raft;
using KvAspire.Groups;
using KvAspire.Node.Configuration;
using KvAspire.Node.Consensus;
using KvAspire.Node.Errors;
using KvAspire.Node.Peers;
using KvAspire.Node.Pipeline;
using KvAspire.Node.Telemetry;

namespace KvAspire.Node.Replication;

/// <summary>
/// Starts the position's revisions. Replicas restore from snapshots taken at different indexes, so a
/// count begun by each from its own data would differ; it begins instead at one committed entry, the
/// baseline, at the same point of every replica's order (docs/coordination-plan.md). The leader proposes
/// it once every member of the group answers that its release counts revisions: a release before them
/// would skip the entry, then write snapshots without revisions, and disagree for good. Until then, and
/// on followers, this waits; once the map counts, it is done.
/// </summary>
public sealed class RevisionBaseline(IRaftCluster raft, RaftGroup group, ApplyWorker applier, WriteProposer proposer, NodeOptions options, MemberTls tls,
    ILogger<RevisionBaseline> logger) : BackgroundService
{
    /// <summary>How often a leader whose position does not count yet asks its members again: soon after a new ring's first election.</summary>
    private static readonly TimeSpan CheckInterval = TimeSpan.FromMilliseconds(250);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var http = tls.StatusClient(options.StartupAskTimeout, group.IsMemberName);
        string? lastReason = null;
        while (applier.Revision == 0 && !stoppingToken.IsCancellationRequested)
        {
            if (!raft.LeadershipToken.IsCancellationRequested)
            {
                if (await MemberReleases.FirstLackingAsync(raft, group, http, status => status.CountsRevisions, "runs a release that does not count them",
                        stoppingToken) is { } waiting)
                {
                    if (waiting.Reason != lastReason)
                        NodeLog.BaselineWaiting(logger, group.Self.Position, waiting.Member, lastReason = waiting.Reason);
                }
                else if (await TryProposeAsync())
                    NodeLog.BaselineProposed(logger, group.Self.Position);
            }
            await Task.Delay(CheckInterval, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task<bool> TryProposeAsync()
    {
        try
        {
            await proposer.ProposeRevisionBaselineAsync();
            return true;
        }
        catch (RequestFailedException)
        {
            return false; // no longer leads: the next leader proposes it
        }
    }
}
