using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Aspire.Hosting;

/// <summary>
/// The health of a cluster's positions and of the cluster, read from its nodes' own health checks (each
/// node's <c>/health</c>: ready once its group has a leader) as Aspire reports them, with no probe of its
/// own. A position is ready while one of its nodes is; the cluster while every position is. Each shows it
/// as its state: Starting until first ready, then Running (what <c>WaitFor</c> waits for), or "Not ready"
/// with the reason while it is not. (A resource of the AppHost's cannot publish health reports of its
/// own, and a health check on it would be added to every child's.)
/// </summary>
internal sealed class KvAspireClusterHealth(KvAspireClusterResource cluster, IReadOnlyList<KvAspirePositionResource> positions)
{
    private const string WhyNotReady = "kvaspire.not-ready";

    private readonly Dictionary<string, int> _positionOfNode = cluster.Topology.Nodes.ToDictionary(n => n.Name, n => n.Position);
    private readonly HashSet<string> _readyNodes = [];
    private readonly Dictionary<IResource, bool?> _published = [];

    public async Task FollowAsync(ResourceNotificationService notifications, CancellationToken stopping)
    {
        try
        {
            await foreach (var change in notifications.WatchAsync(stopping))
            {
                if (!_positionOfNode.ContainsKey(change.Resource.Name))
                    continue;
                var changed = change.Snapshot.HealthStatus == HealthStatus.Healthy
                    ? _readyNodes.Add(change.Resource.Name)
                    : _readyNodes.Remove(change.Resource.Name);
                if (!changed)
                    continue;
                var notReady = positions.Where(p => !_readyNodes.Any(n => _positionOfNode[n] == p.Position)).Select(p => p.Position).ToList();
                foreach (var position in positions)
                {
                    await PublishAsync(notifications, position, !notReady.Contains(position.Position),
                        $"no replica of position {position.Position} is ready (its group has no leader)");
                }
                await PublishAsync(notifications, cluster, notReady.Count == 0, $"position(s) {string.Join(", ", notReady)} not ready");
            }
        }
        catch (OperationCanceledException)
        {
            // The AppHost is stopping.
        }
    }

    private async Task PublishAsync(ResourceNotificationService notifications, IResource resource, bool ready, string whyNot)
    {
        _published.TryGetValue(resource, out var before);
        if (before == ready || (before is null && !ready))
            return;
        _published[resource] = ready;
        await notifications.PublishUpdateAsync(resource, snapshot => snapshot with
        {
            State = ready ? KnownResourceStates.Running : new ResourceStateSnapshot(KvAspireClusterResource.NotReadyState, KnownResourceStateStyles.Warn),
            Properties = [.. snapshot.Properties.Where(p => p.Name != WhyNotReady), new ResourcePropertySnapshot(WhyNotReady, ready ? "" : whyNot)],
        });
    }
}
