using DotNext.Net.Cluster.Consensus.Raft;
using KvAspire.Groups;
using KvAspire.Node.Configuration;
using KvAspire.Node.Consensus;
using KvAspire.Node.Errors;
using KvAspire.Node.Peers;
using KvAspire.Node.Pipeline;
using KvAspire.Node.Storage;
using KvAspire.Node.Telemetry;

namespace KvAspire.Node.Replication;

/// <summary>
/// The entries a position's group commits once, each at one point of every replica's order: the revision
/// baseline, from which the position counts revisions (replicas restore from snapshots taken at different
/// indexes, so a count begun by each from its own data would differ; docs/coordination-plan.md), and its
/// claim, the range of keys it owns (<see cref="KvMap.Claim"/>: at first its <see cref="StartingClaim"/>).
/// The leader proposes each once every member of the group answers that its release reads it: a release
/// before it would skip the entry, then write snapshots without it, and disagree for good. Until then, and
/// on followers, this waits; once the map holds both, it is done.
/// </summary>
public sealed class GroupBaselines(IRaftCluster raft, RaftGroup group, ApplyWorker applier, WriteProposer proposer, StartingClaim startingClaim, NodeOptions options,
    MemberTls tls, ILogger<GroupBaselines> logger) : BackgroundService
{
    /// <summary>How often a leader whose group lacks one asks its members again: soon after a new ring's first election.</summary>
    private static readonly TimeSpan CheckInterval = TimeSpan.FromMilliseconds(250);

    private sealed record Baseline(string What, Func<bool> Missing, Func<GroupStatusReport, bool> Read, string Lacking, Func<Task> ProposeAsync);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Baseline[] baselines =
        [
            new("the revision baseline", () => applier.Revision == 0, status => status.CountsRevisions, "runs a release that does not count revisions",
                proposer.ProposeRevisionBaselineAsync),
            new("the claim of its range", () => applier.Claim is null, status => status.ChecksOwnership, "runs a release that does not check what its position owns",
                () => proposer.ProposeClaimAsync(startingClaim.Range)),
        ];
        using var http = tls.StatusClient(options.StartupAskTimeout, group.IsMemberName);
        var lastReasons = new string?[baselines.Length];
        while (baselines.Any(b => b.Missing()) && !stoppingToken.IsCancellationRequested)
        {
            for (var i = 0; i < baselines.Length; i++)
            {
                var baseline = baselines[i];
                if (!baseline.Missing() || raft.LeadershipToken.IsCancellationRequested)
                    continue;
                if (await MemberReleases.FirstLackingAsync(raft, group, http, baseline.Read, baseline.Lacking, stoppingToken) is { } waiting)
                {
                    if (waiting.Reason != lastReasons[i])
                        NodeLog.BaselineWaiting(logger, baseline.What, group.Self.Position, waiting.Member, lastReasons[i] = waiting.Reason);
                }
                else if (await TryProposeAsync(baseline))
                    NodeLog.BaselineProposed(logger, baseline.What, group.Self.Position);
            }
            await Task.Delay(CheckInterval, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private static async Task<bool> TryProposeAsync(Baseline baseline)
    {
        try
        {
            await baseline.ProposeAsync();
            return true;
        }
        catch (RequestFailedException)
        {
            return false; // no longer leads: the next leader proposes it
        }
    }
}
