using System.Diagnostics;
using System.Diagnostics.Metrics;
using Grpc.Core;
using KvAspire.Node.Api;
using KvAspire.Node.Pipeline;
using KvAspire.Node.Ring;
using KvAspire.Node.Storage;

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

    public NodeTelemetry(IMeterFactory meterFactory, AdmissionInterceptor admission, PipelineQueues queues, LogWorker log, Forwarder forwarder, RecoveredState recovered)
    {
        var meter = meterFactory.Create(Name);
        _operations = meter.CreateCounter<long>("kvaspire.operations", "{operation}",
            "Operations answered, by operation and result");
        _duration = meter.CreateHistogram("kvaspire.operation.duration", "ms",
            "Time from a request's arrival to its answer",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBucketsMs });
        meter.CreateObservableGauge("kvaspire.queue.depth", () => new[]
        {
            Depth(admission.InFlight, "F1"),
            Depth(admission.Waiting, "F1-waiting"),
            Depth(log.Waiting, "F2"),
            Depth(queues.ToApply.Reader.Count, "F3"),
            Depth(forwarder.InFlight, "F4"),
        }, "{request}", "F1: requests admitted and not yet answered (F1-waiting: waiting for a slot); F2: Raft entries appended and waiting for their sync; F3: items queued for the map; F4: forwards under way");
        _snapshots = meter.CreateCounter<long>("kvaspire.snapshots", "{snapshot}", "Snapshots written");
        _snapshotDuration = meter.CreateHistogram<double>("kvaspire.snapshot.duration", "ms", "Time to write a snapshot");
        _snapshotSize = meter.CreateHistogram<long>("kvaspire.snapshot.size", "By", "Size of each snapshot written");
        meter.CreateObservableGauge("kvaspire.log.size", () => log.Length, "By",
            "Bytes in the current log, written since the last snapshot started");
        meter.CreateObservableGauge("kvaspire.recovery.duration", () => recovered.Duration.TotalMilliseconds, "ms",
            "Time the last start spent loading its snapshot and replaying its logs");
    }



    public void RecordSnapshot(TimeSpan elapsed, long sizeBytes)
    {
        _snapshots.Add(1);
        _snapshotDuration.Record(elapsed.TotalMilliseconds);
        _snapshotSize.Record(sizeBytes);
    }

    private static Measurement<long> Depth(long value, string queue) => new(value, new KeyValuePair<string, object?>("queue", queue));

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
    /// own span, and never the worker's ambient one (<see cref="StageSpan"/>).
    /// </summary>
    public static StageSpan StartStage(string stage, PendingRequest request)
    {
        var span = StageSpan.Start(ActivitySource, $"{stage} {OperationName(request.Operation.Kind)}", ActivityKind.Internal, request.TraceContext);
        if (request.Entry is { } entry)
            span.Activity?.SetTag("kvaspire.index", entry.Index);
        return span;
    }

    /// <summary>
    /// Called first by a loop that one request starts and that goes on to serve the requests after it:
    /// the loop runs in no request's trace, so its spans join none of them and it keeps none alive.
    /// </summary>
    public static void LeaveRequestTrace() => Activity.Current = null;

    /// <summary>A client span for one forward, parented to the request's own span.</summary>
    public static Activity? StartForward(PendingRequest request, int nextPosition, string nextNode)
    {
        var activity = ActivitySource.StartActivity($"forward {OperationName(request.Operation.Kind)}", ActivityKind.Client, request.TraceContext);
        if (activity is not null)
        {
            activity.SetTag("kvaspire.key_id", request.Route.KeyId.ToString("x16", System.Globalization.CultureInfo.InvariantCulture));
            activity.SetTag("kvaspire.owner_position", request.Route.Owner);
            activity.SetTag("kvaspire.hop", request.HopsSoFar + 1);
            activity.SetTag("kvaspire.next_position", nextPosition);
            activity.SetTag("kvaspire.next_node", nextNode);
        }
        return activity;
    }

    /// <summary>A client span for a write a follower hands to its leader, parented to the request's own span.</summary>
    public static Activity? StartHandOff(PendingRequest request) =>
        ActivitySource.StartActivity($"hand off {OperationName(request.Operation.Kind)}", ActivityKind.Client, request.TraceContext);

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
        _ => "unknown",
    };
}
