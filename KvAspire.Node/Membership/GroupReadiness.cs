using DotNext.Net.Cluster.Consensus.Raft;
using KvAspire.Node.Consensus;
using KvAspire.Node.Telemetry;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace KvAspire.Node.Membership;

/// <summary>
/// Owns what "ready" means for a node (its <c>/health</c>, beside <c>/alive</c>): its position's group has
/// a leader this node can see, itself or one it hears from. A node whose position lost its quorum is
/// alive but not ready: it would answer its keys UNAVAILABLE after the request timeout. It logs each change
/// of readiness once, with the reason (the health check service's own line for every unhealthy probe, at
/// Error, is filtered out: not ready during the first election is expected, not an error).
/// </summary>
public sealed class GroupReadiness(IRaftCluster raft, RaftGroup group, ILogger<GroupReadiness> logger) : IHealthCheck
{
    public const string Tag = "ready";

    private const int Unknown = 0, NotReady = 1, IsReady = 2;
    private int _state;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var position = group.Self.Position;
        if (raft.Leader is { } leader)
        {
            var name = group.NodeOf(leader.EndPoint).Name;
            if (Interlocked.Exchange(ref _state, IsReady) != IsReady)
                NodeLog.Ready(logger, position, name);
            return Task.FromResult(HealthCheckResult.Healthy($"position {position} is led by {name}"));
        }
        switch (Interlocked.Exchange(ref _state, NotReady))
        {
            case Unknown:
                NodeLog.NotReadyYet(logger, position);
                break;
            case IsReady:
                NodeLog.NoLongerReady(logger, position);
                break;
        }
        return Task.FromResult(HealthCheckResult.Unhealthy($"position {position} has no leader this node can see: no quorum, or an election under way"));
    }
}
