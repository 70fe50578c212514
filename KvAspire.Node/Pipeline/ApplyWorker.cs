using KvAspire.Node.Storage;
using KvAspire.Node.Telemetry;

namespace KvAspire.Node.Pipeline;

/// <summary>
/// F3's single reader, the only code that touches the map while the node serves: applies each committed
/// entry's writes (and hands their changes to the watchers' history, and what they did to leases to the
/// lease deadlines), and executes each read, in queue order, and answers the requests waiting here (what
/// they saw is durable already: F2 synced every entry before it committed). At a
/// snapshot marker it freezes the map (a point-in-time view, no copy) for the snapshotter and keeps
/// applying; once the snapshot is written it folds the writes made meanwhile back in. A marker that
/// installs the leader's snapshot replaces the map first (and empties the history of events: it cannot
/// tell what changed before the snapshot). It runs until F3 is closed and empty, and a
/// snapshot under way is finished.
/// </summary>
public sealed class ApplyWorker(PipelineQueues queues, RecoveredState recovered, EventHistory events, LeaseDeadlines leases, LogWorker log, Snapshotter snapshotter,
    NodeTelemetry telemetry, ILogger<ApplyWorker> logger)
    : BackgroundService
{
    private long _appliedIndex = recovered.Map.AppliedIndex;
    private long _revision = recovered.Map.Revision;
    private OwnedRange? _claim = recovered.Map.Claim;
    private MovePlan? _move = recovered.Map.Move;
    private string? _fenceRefused;

    /// <summary>The index of the last entry whose writes the map holds (Raft's own entries, which write nothing, do not reach it).</summary>
    public long AppliedIndex => Volatile.Read(ref _appliedIndex);

    /// <summary>The position's revision as the map holds it (<see cref="KvMap.Revision"/>): 0 until its baseline entry is applied here.</summary>
    public long Revision => Volatile.Read(ref _revision);

    /// <summary>The range the position owns as the map holds it (<see cref="KvMap.Claim"/>): null until its first claim entry is applied here.</summary>
    public OwnedRange? Claim => Volatile.Read(ref _claim);

    /// <summary>The move the position is fenced for (<see cref="KvMap.Move"/>), as applied here.</summary>
    public MovePlan? Move => Volatile.Read(ref _move);

    /// <summary>Why the last fence applied here was not taken (<see cref="KvMap.FenceRefused"/>).</summary>
    public string? FenceRefused => Volatile.Read(ref _fenceRefused);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        telemetry.ObserveQueueDepth("F3", () => queues.ToApply.Reader.Count);
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
                {
                    map = KvMap.Restore(installed);
                    events.Reset(map);
                    leases.Reset(map.ServedLeases);
                    Volatile.Write(ref _appliedIndex, map.AppliedIndex);
                    Volatile.Write(ref _revision, map.Revision);
                    Volatile.Write(ref _claim, map.Claim);
                    Volatile.Write(ref _move, map.Move);
                }
                writing = snapshotter.WriteAsync(marker, map.Freeze());
                continue;
            }

            if (item is CommittedWrites writes)
                Apply(map, writes);
            else
            {
                var read = (PendingRequest)item;
                using (read.StartStage("apply"))
                    read.Complete(read.Operation switch
                    {
                        { List: { } list } => map.List(list),
                        { Kind: Operations.OperationKind.LeaseRead } => map.ReadLease(read.Operation),
                        _ => map.Read(read.Operation.Key),
                    });
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

    private void Apply(KvMap map, CommittedWrites writes)
    {
        var entry = writes.Entry;
        // Each waiting request's span covers the whole entry's apply: its writes are applied together.
        StageSpan[]? stages = null;
        for (var i = 0; i < writes.Waiting.Length; i++)
        {
            if (writes.Waiting[i] is { } waiting)
                (stages ??= new StageSpan[writes.Waiting.Length])[i] = waiting.StartStage("apply");
        }
        var held = map.Count;
        var results = map.Apply(entry);
        events.Append(map);
        leases.Apply(map.LeaseChanges);
        if (entry.StartsRevisions && Revision == 0)
            NodeLog.RevisionsStarted(logger, entry.Index, map.Revision);
        if (entry.Claim is not null && map.Claim != Claim)
            NodeLog.ClaimApplied(logger, entry.Index, map.Claim!.ToString());
        if (entry.Install is { } install)
        {
            NodeLog.RangePartApplied(logger, entry.Index, install.Epoch, install.Part.Values.Count,
                map.Claim is { } claim && claim.Epoch >= install.Epoch ? ", not installed: the range is claimed already" : install.First ? ", the first" : "");
        }
        if (entry.DropsUnclaimed)
            NodeLog.UnclaimedDropped(logger, entry.Index, held - map.Count, map.Count);
        for (var i = 0; i < results.Length; i++)
        {
            var operation = entry.Operations[i];
            // Every replica's applied history, write by write, when tracing a divergence.
            NodeLog.EntryApplied(logger, entry.Index, entry.Term, operation.RequestId, operation.Kind, operation.Key, results[i].Code, results[i].Version);
            if (writes.Waiting[i] is { } request)
            {
                request.Complete(results[i]);
                stages![i].Dispose();
            }
        }
        log.Applied(entry.Index);
        Volatile.Write(ref _appliedIndex, map.AppliedIndex);
        Volatile.Write(ref _revision, map.Revision);
        Volatile.Write(ref _claim, map.Claim);
        Volatile.Write(ref _move, map.Move);
        Volatile.Write(ref _fenceRefused, map.FenceRefused);
    }
}
