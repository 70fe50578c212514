using DotNext.Net.Cluster.Consensus.Raft;
using KvAspire.Groups;
using KvAspire.Node.Configuration;
using KvAspire.Node.Consensus;
using KvAspire.Node.Errors;
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
public sealed class RevisionBaseline(IRaftCluster raft, RaftGroup group, ApplyWorker applier, WriteProposer proposer, NodeOptions options,
    ILogger<RevisionBaseline> logger) : BackgroundService
{
    /// <summary>How often a leader whose position does not count yet asks its members again: soon after a new ring's first election.</summary>
    private static readonly TimeSpan CheckInterval = TimeSpan.FromMilliseconds(250);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var http = new HttpClient { Timeout = options.StartupAskTimeout };
        string? lastReason = null;
        while (applier.Revision == 0 && !stoppingToken.IsCancellationRequested)
        {
            if (!raft.LeadershipToken.IsCancellationRequested)
            {
                if (await MemberNotCountingAsync(http, stoppingToken) is { } waiting)
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

    /// <summary>A member of the group, as this leader knows it, that does not say it counts revisions (and why), or null when none.</summary>
    private async Task<(string Member, string Reason)?> MemberNotCountingAsync(HttpClient http, CancellationToken cancellationToken)
    {
        var members = raft.Members.Where(member => member.IsRemote).Select(member => group.NodeOf(member.EndPoint)).Distinct().ToList();
        var answers = await Task.WhenAll(members.Select(member => GroupStatusClient.TryGetAsync(http, member, cancellationToken)));
        for (var i = 0; i < members.Count; i++)
        {
            if (answers[i] is not { } answer)
                return (members[i].Name, "does not answer its status");
            if (!answer.CountsRevisions)
                return (members[i].Name, "runs a release that does not count them");
        }
        return null;
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
