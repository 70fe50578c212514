using DotNext.Net.Cluster.Consensus.Raft;
using KvAspire.Node.Configuration;
using KvAspire.Node.Consensus;
using KvAspire.Node.Pipeline;
using KvAspire.Node.Peers;
using KvAspire.Operations;

namespace KvAspire.Node.Replication;

/// <summary>
/// Whether this position may take lease calls: once its leader has seen every member say its release keeps
/// leases (<see cref="MemberReleases"/>). An older release skips a lease entry it cannot decode, and with it
/// any writes batched in the same entry: during a rolling upgrade, lease calls wait (UNAVAILABLE, saying
/// which member) until the last replica runs the new release. Once seen, it holds. A position that holds a
/// claim is ready without asking: its first claim was committed only once every member's release read
/// claims, which came after leases; so a leader elected while a member is down takes lease calls at once
/// (<paramref name="applier"/>: the node's; none where a proposer is tested alone).
/// </summary>
public sealed class LeaseReadiness(IRaftCluster raft, RaftGroup group, NodeOptions options, MemberTls tls, ApplyWorker? applier = null) : BackgroundService
{
    private static readonly TimeSpan CheckInterval = TimeSpan.FromMilliseconds(250);
    private volatile string? _waiting = "its leader has not yet asked every member's release";

    /// <summary>Why lease calls wait, or null when they may go ahead.</summary>
    public string? Waiting => applier?.Claim is null ? _waiting : null;

    /// <summary>Whether an operation needs every member to keep leases: a lease's own, or a write that attaches a key to one.</summary>
    public static bool Needs(KvOperation operation) => LeaseMessages.IsLease(operation) || operation.Lease != 0;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var http = tls.StatusClient(options.StartupAskTimeout, group.IsMemberName);
        while (Waiting is not null && !stoppingToken.IsCancellationRequested)
        {
            if (!raft.LeadershipToken.IsCancellationRequested)
            {
                var lacking = await MemberReleases.FirstLackingAsync(raft, group, http, status => status.KeepsLeases, "runs a release without leases",
                    stoppingToken);
                _waiting = lacking is { } member ? $"{member.Member} {member.Reason}" : null;
            }
            await Task.Delay(CheckInterval, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }
}
