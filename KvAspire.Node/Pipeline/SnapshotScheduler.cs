using System.Threading.Channels;
using KvAspire.Configuration;
using KvAspire.Node.Storage;
using Microsoft.Extensions.Hosting;

namespace KvAspire.Node.Pipeline;

/// <summary>
/// Every <c>SnapshotIntervalSeconds</c>, puts snapshot marker X into F1 (X never reused) unless nothing
/// was written since the last snapshot, and waits for that snapshot before the next one.
/// </summary>
public sealed class SnapshotScheduler(
    ClusterTopology topology,
    PipelineQueues queues,
    Dispatcher dispatcher,
    RecoveredState recovered,
    TimeProvider clock) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var next = recovered.NextSnapshotNumber;
        var covered = recovered.SnapshotIndex;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(topology.SnapshotIntervalSeconds), clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (dispatcher.LastIndex == covered)
                    continue;
                var marker = new SnapshotMarker(next++);
                await queues.F1.Writer.WriteAsync(marker, stoppingToken);
                try
                {
                    covered = await marker.Written.WaitAsync(stoppingToken);
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
