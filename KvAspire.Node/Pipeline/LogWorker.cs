using KvAspire.Node.Configuration;
using KvAspire.Node.Storage;
using KvAspire.Node.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace KvAspire.Node.Pipeline;

/// <summary>
/// F2's single reader: appends writes to the current <c>log.X</c>. Whatever has queued up while the
/// previous sync ran goes out as one batch with one fsync (group commit), then the gate releases those
/// answers. Snapshot marker X ends the batch before it, then new writes go to <c>log.X</c>.
/// It runs until F2 is closed and empty, so accepted writes are synced even during shutdown.
/// </summary>
public sealed class LogWorker(
    PipelineQueues queues,
    NodeOptions options,
    RecoveredState recovered,
    DurabilityGate gate,
    NodeTelemetry telemetry,
    FailStop failStop,
    ILogger<LogWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var log = recovered.Log;
        var reader = queues.ToLog.Reader;
        var batch = new List<CommittedEntry>(options.LogBatchRecords);
        telemetry.RecordLogSize(log.Length);
        try
        {
            while (await reader.WaitToReadAsync(CancellationToken.None))
            {
                SnapshotMarker? marker = null;
                batch.Clear();
                while (batch.Count < options.LogBatchRecords && marker is null && reader.TryRead(out var item))
                {
                    if (item is CommittedWrites writes)
                        batch.Add(writes.Entry);
                    else
                        marker = (SnapshotMarker)item;
                }
                if (batch.Count > 0)
                {
                    log.Append(batch);
                    gate.MarkDurable(batch[^1].Index);
                }
                if (marker is not null)
                {
                    var next = OperationLog.Open(recovered.DataDirectory, marker.Number, 0);
                    log.Dispose();
                    log = next;
                    marker.MarkRotated();
                    // A snapshot from the leader holds only committed writes: reads of it need not wait for a sync here.
                    if (marker.Install is { } installed)
                        gate.MarkDurable(installed.LastIndex);
                }
                telemetry.RecordLogSize(log.Length);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            NodeLog.LogWriteFailed(logger, e);
            gate.Fail(new IOException("the node cannot write its operation log", e));
            failStop.Stop();
        }
        finally
        {
            log.Dispose();
        }
    }
}
