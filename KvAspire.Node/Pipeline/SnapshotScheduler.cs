using System.Threading.Channels;
using KvAspire.Cluster;

namespace KvAspire.Node.Pipeline;

/// <summary>
/// Every <c>SnapshotIntervalSeconds</c>, has the state machine place snapshot marker X after the last
/// committed entry (X never reused) unless nothing was applied since the last snapshot, and waits for
/// that snapshot before the next one.
/// </summary>
public sealed class SnapshotScheduler(ClusterTopology topology, ISnapshotStarter stateMachine, TimeProvider clock) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(topology.SnapshotIntervalSeconds), clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (await stateMachine.StartSnapshotAsync(stoppingToken) is not { } marker)
                    continue;
                try
                {
                    await marker.Written.WaitAsync(stoppingToken);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Logged by the snapshotter; the logs still hold everything, so try again next tick.
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
        {
            // The node is stopping.
        }
    }
}
