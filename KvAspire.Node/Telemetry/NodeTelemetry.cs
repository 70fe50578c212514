using System.Diagnostics;
using System.Diagnostics.Metrics;
using Grpc.Core;
using KvAspire.Operations;

namespace KvAspire.Node.Telemetry;

/// <summary>The node's own traces and metrics: one ActivitySource and one Meter, both named <see cref="Name"/>.</summary>
public sealed class NodeTelemetry
{
    public const string Name = "KvAspire.Node";

    public static readonly ActivitySource ActivitySource = new(Name);

    private static readonly double[] LatencyBucketsMs = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500];

    private readonly Counter<long> _operations;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _snapshots;
    private readonly Histogram<double> _snapshotDuration;
    private readonly Histogram<long> _snapshotSize;
    private readonly List<(string Queue, Func<long> Depth)> _queues = [];

    public NodeTelemetry(IMeterFactory meterFactory)
    {
        Meter = meterFactory.Create(Name);
        _operations = Meter.CreateCounter<long>("kvaspire.operations", "{operation}",
            "Operations answered, by operation and result");
        _duration = Meter.CreateHistogram("kvaspire.operation.duration", "ms",
            "Time from a request's arrival to its answer",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBucketsMs });
        Meter.CreateObservableGauge("kvaspire.queue.depth", ObserveQueues, "{request}",
            "F1: requests admitted and not yet answered (F1-waiting: waiting for a slot); F2: Raft entries appended and waiting for their sync; F3: items queued for the map; F4: forwards under way");
        _snapshots = Meter.CreateCounter<long>("kvaspire.snapshots", "{snapshot}", "Snapshots written");
        _snapshotDuration = Meter.CreateHistogram<double>("kvaspire.snapshot.duration", "ms", "Time to write a snapshot");
        _snapshotSize = Meter.CreateHistogram<long>("kvaspire.snapshot.size", "By", "Size of each snapshot written");
    }

    /// <summary>The node's meter, on which each component creates the instruments that observe it.</summary>
    public Meter Meter { get; }

    /// <summary>
    /// Adds a queue to <c>kvaspire.queue.depth</c>, under its label (F1, F2, …): each bounded stage
    /// registers its own depth, so this class knows none of them.
    /// </summary>
    public void ObserveQueueDepth(string queue, Func<long> depth)
    {
        lock (_queues)
            _queues.Add((queue, depth));
    }

    private Measurement<long>[] ObserveQueues()
    {
        lock (_queues)
            return _queues.Select(q => new Measurement<long>(q.Depth(), new KeyValuePair<string, object?>("queue", q.Queue))).ToArray();
    }

    /// <summary>Publishes how long the start's recovery (loading the snapshot, replaying the logs) took.</summary>
    public void RecordRecovery(TimeSpan elapsed) =>
        Meter.CreateObservableGauge("kvaspire.recovery.duration", () => elapsed.TotalMilliseconds, "ms",
            "Time the last start spent loading its snapshot and replaying its logs");

    public void RecordSnapshot(TimeSpan elapsed, long sizeBytes)
    {
        _snapshots.Add(1);
        _snapshotDuration.Record(elapsed.TotalMilliseconds);
        _snapshotSize.Record(sizeBytes);
    }

    /// <param name="operation">create, read, update or delete.</param>
    /// <param name="result">The gRPC status the caller got.</param>
    public void RecordOperation(string operation, StatusCode result, TimeSpan elapsed)
    {
        var tags = new TagList { { "operation", operation }, { "result", result.ToString() } };
        _operations.Add(1, tags);
        _duration.Record(elapsed.TotalMilliseconds, tags);
    }

    /// <summary>
    /// A span for one stage of a request's path that a pipeline worker runs, parented to the request's
    /// own span, and never the worker's ambient one (<see cref="StageSpan"/>); tagged with the Raft index
    /// of the entry that carries the request, when there is one.
    /// </summary>
    public static StageSpan StartStage(string stage, OperationKind operation, ActivityContext request, long? index)
    {
        var span = StageSpan.Start(ActivitySource, $"{stage} {OperationName(operation)}", ActivityKind.Internal, request);
        if (index is { } entryIndex)
            span.Activity?.SetTag("kvaspire.index", entryIndex);
        return span;
    }

    /// <summary>
    /// Called first by a loop that one request starts and that goes on to serve the requests after it:
    /// the loop runs in no request's trace, so its spans join none of them and it keeps none alive.
    /// </summary>
    public static void LeaveRequestTrace() => Activity.Current = null;

    /// <summary>A client span for one forward of a request for <paramref name="keyId"/>, parented to the request's own span.</summary>
    public static Activity? StartForward(OperationKind operation, ActivityContext request, ulong keyId, int ownerPosition, int hop,
        int nextPosition, string nextNode)
    {
        var activity = ActivitySource.StartActivity($"forward {OperationName(operation)}", ActivityKind.Client, request);
        if (activity is not null)
        {
            activity.SetTag("kvaspire.key_id", keyId.ToString("x16", System.Globalization.CultureInfo.InvariantCulture));
            activity.SetTag("kvaspire.owner_position", ownerPosition);
            activity.SetTag("kvaspire.hop", hop);
            activity.SetTag("kvaspire.next_position", nextPosition);
            activity.SetTag("kvaspire.next_node", nextNode);
        }
        return activity;
    }

    /// <summary>A client span for a write a follower hands to its leader, parented to the request's own span.</summary>
    public static Activity? StartHandOff(OperationKind operation, ActivityContext request) =>
        ActivitySource.StartActivity($"hand off {OperationName(operation)}", ActivityKind.Client, request);

    /// <summary>The W3C traceparent of <paramref name="context"/> (empty for no trace), for a span on another node to join it.</summary>
    public static string TraceParent(ActivityContext context) =>
        context == default ? "" : $"00-{context.TraceId.ToHexString()}-{context.SpanId.ToHexString()}-{(context.TraceFlags.HasFlag(ActivityTraceFlags.Recorded) ? "01" : "00")}";

    /// <summary>The trace a <see cref="TraceParent"/> names, or none when it names none.</summary>
    public static ActivityContext FromTraceParent(string traceParent) =>
        ActivityContext.TryParse(traceParent, null, isRemote: true, out var context) ? context : default;

    public static string OperationName(OperationKind kind) => kind switch
    {
        OperationKind.Create => "create",
        OperationKind.Read => "read",
        OperationKind.Update => "update",
        OperationKind.Delete => "delete",
        OperationKind.Txn => "txn",
        OperationKind.List => "list",
        _ => "unknown",
    };
}
