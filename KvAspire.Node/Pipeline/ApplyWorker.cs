using KvAspire.Node.Storage;
using KvAspire.Node.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace KvAspire.Node.Pipeline;

/// <summary>
/// F3's single reader, the only code that touches the map while the node serves: applies each committed
/// write, and executes each read, in queue order, and hands every answer to the durability gate. At a
/// snapshot marker it freezes the map (a point-in-time view, no copy) for the snapshotter and keeps
/// applying; once the snapshot is written it folds the writes made meanwhile back in. A marker that
/// installs the leader's snapshot replaces the map first. It runs until F3 is closed and empty, and a
/// snapshot under way is finished.
/// </summary>
public sealed class ApplyWorker(PipelineQueues queues, RecoveredState recovered, DurabilityGate gate, Snapshotter snapshotter, ILogger<ApplyWorker> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var map = recovered.Map;
        Task? writing = null;
        await foreach (var item in queues.ToApply.Reader.ReadAllAsync(CancellationToken.None))
        {
            if (item is SnapshotMarker marker)
            {
                if (writing is not null)
                    await writing;
                map.Thaw();
                if (marker.Install is { } installed)
                    map = KvMap.Restore(installed);
                writing = snapshotter.WriteAsync(marker, map.Freeze());
                continue;
            }

            var request = (PendingRequest)item;
            using (NodeTelemetry.StartStage("apply", request))
            {
                if (request.Entry is { } entry)
                {
                    var result = map.Apply(entry);
                    // Every replica's applied history, entry by entry, when tracing a divergence.
                    NodeLog.EntryApplied(logger, entry.Index, entry.Term, entry.Operation.RequestId, entry.Operation.Kind, entry.Operation.Key, result.Code, result.Version);
                    gate.Release(request, result, entry.Index);
                }
                else
                    gate.Release(request, map.Read(request.Operation.Key), map.AppliedIndex);
            }
            if (writing is { IsCompleted: true })
            {
                map.Thaw();
                writing = null;
            }
        }

        // A snapshot under way when the node stops is finished, not left half-written.
        if (writing is not null)
            await writing;
    }
}
