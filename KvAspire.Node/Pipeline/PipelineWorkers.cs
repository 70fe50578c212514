using KvAspire.Node.Configuration;
using KvAspire.Node.Telemetry;

namespace KvAspire.Node.Pipeline;

/// <summary>
/// Owns the pipeline's threads: started before Raft (which re-applies committed entries as it starts) and
/// stopped after it (so after the host has answered the requests under way), each the single reader of
/// its queue: the apply worker (F3), the log worker (F2) and the snapshot scheduler. They stop in
/// reverse: snapshots first, then F3 closes and the log and apply workers finish what they hold.
/// A worker that fails stops the node (<see cref="FailStop"/>): a pipeline missing one would accept
/// requests and never answer them.
/// </summary>
public sealed class PipelineWorkers(ApplyWorker apply, LogWorker log, SnapshotScheduler snapshots, PipelineQueues queues,
    NodeOptions options, FailStop failStop, ILogger<PipelineWorkers> logger)
{
    private volatile bool _stopping;

    private IReadOnlyList<BackgroundService> InStartOrder => [apply, log, snapshots];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var worker in InStartOrder)
        {
            await worker.StartAsync(cancellationToken);
            _ = WatchAsync(worker);
        }
    }

    private async Task WatchAsync(BackgroundService worker)
    {
        try
        {
            await worker.ExecuteTask!;
        }
        catch (Exception e) when (!_stopping)
        {
            NodeLog.WorkerFailed(logger, worker.GetType().Name, e);
            failStop.Stop();
        }
    }

    /// <summary>Stops each worker in turn, each given at most the worker stop timeout to finish what it holds.</summary>
    public async Task StopAsync()
    {
        _stopping = true;
        using (var timeout = new CancellationTokenSource(options.WorkerStopTimeout))
            await snapshots.StopAsync(timeout.Token);
        queues.Close();
        foreach (var worker in InStartOrder.Reverse().Skip(1))
        {
            using var timeout = new CancellationTokenSource(options.WorkerStopTimeout);
            await worker.StopAsync(timeout.Token);
        }
    }
}
