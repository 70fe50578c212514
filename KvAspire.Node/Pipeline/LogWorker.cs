using KvAspire.Node.Storage;
using KvAspire.Node.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace KvAspire.Node.Pipeline;

/// <summary>
/// The single reader of F2: appends writes to the log. Whatever has queued up while the previous sync
/// ran goes out as one batch with one fsync (group commit), then the gate releases those answers.
/// It runs until F2 is closed and empty, so accepted writes are synced even during shutdown.
/// </summary>
public sealed class LogWorker(
    PipelineQueues queues,
    RecoveredState recovered,
    DurabilityGate gate,
    IHostApplicationLifetime lifetime,
    ILogger<LogWorker> logger) : BackgroundService
{
    private const int MaxBatch = 4096;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reader = queues.F2.Reader;
        var batch = new List<LogEntry>(MaxBatch);
        while (await reader.WaitToReadAsync(CancellationToken.None))
        {
            batch.Clear();
            while (batch.Count < MaxBatch && reader.TryRead(out var command))
                batch.Add(command.Entry!);
            try
            {
                recovered.Log.Append(batch);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                NodeLog.LogWriteFailed(logger, e);
                gate.Fail(new IOException("the node cannot write its operation log", e));
                lifetime.StopApplication();
                return;
            }
            gate.MarkDurable(batch[^1].Index);
        }
    }
}
