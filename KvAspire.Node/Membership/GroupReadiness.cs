using DotNext.Net.Cluster.Consensus.Raft;
using KvAspire.Node.Consensus;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace KvAspire.Node.Membership;

/// <summary>
/// Owns what "ready" means for a node (its <c>/health</c>, beside <c>/alive</c>): its position's group has
/// a leader this node can see, itself or one it hears from. A node whose position lost its quorum is
/// alive but not ready: it would answer its keys UNAVAILABLE after the request timeout.
/// </summary>
public sealed class GroupReadiness(IRaftCluster raft, RaftGroup group) : IHealthCheck
{
    public const string Tag = "ready";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(raft.Leader is { } leader
            ? HealthCheckResult.Healthy($"position {group.Self.Position} is led by {group.NodeOf(leader.EndPoint).Name}")
            : HealthCheckResult.Unhealthy($"position {group.Self.Position} has no leader this node can see: no quorum, or an election under way"));
}
