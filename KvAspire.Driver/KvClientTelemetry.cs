using System.Diagnostics;
using System.Diagnostics.Metrics;
using Grpc.Core;
using KvAspire.Driver.Transport;
using KvAspire.Operations;

namespace KvAspire.Driver;

/// <summary>
/// The client library's traces and metrics, both named <see cref="Name"/>: one client span per call (its
/// gRPC calls, and the nodes' spans, are its children, so an app's trace continues into the cluster) and
/// the calls made and their duration, by operation and outcome; for a watch, a span per stream (at one node,
/// from its opening to its end), the streams opened and the changes received.
/// </summary>
public static class KvClientTelemetry
{
    public const string Name = "KvAspire.Driver";

    public static readonly ActivitySource ActivitySource = new(Name);

    private static readonly Meter Meter = new(Name);
    private static readonly Counter<long> Calls = Meter.CreateCounter<long>("kvaspire.client.operations", "{operation}", "Calls made, by operation and result");
    private static readonly Histogram<double> Duration = Meter.CreateHistogram<double>("kvaspire.client.operation.duration", "ms",
        "Time from a call to its answer, retries included");

    private static readonly Counter<long> WatchEvents = Meter.CreateCounter<long>("kvaspire.client.watch.events", "{event}",
        "Changes watches received");
    private static readonly Counter<long> WatchStreams = Meter.CreateCounter<long>("kvaspire.client.watch.streams", "{stream}",
        "Watch streams opened at a node (a watch opens another, from where it was, when its node fails), by how the stream ended");

    /// <summary>A client span for one stream of a watch at one node, from its opening to its end.</summary>
    internal static Activity? StartWatchStream(string node, bool prefix)
    {
        var activity = ActivitySource.StartActivity("kvaspire watch", ActivityKind.Client);
        activity?.SetTag("db.system.name", "kvaspire");
        activity?.SetTag("db.operation.name", "watch");
        activity?.SetTag("kvaspire.node", node);
        activity?.SetTag("kvaspire.prefix", prefix);
        return activity;
    }

    internal static void FinishWatchStream(Activity? activity, StatusCode status, string? error)
    {
        WatchStreams.Add(1, new TagList { { "result", status.ToString() } });
        if (activity is null)
            return;
        activity.SetTag("rpc.grpc.status_code", (int)status);
        if (status != StatusCode.Cancelled)
            activity.SetStatus(ActivityStatusCode.Error, error);
        activity.Dispose();
    }

    internal static void RecordWatchEvents(int count) => WatchEvents.Add(count);

    internal static Activity? Start(KvOperation request)
    {
        var activity = ActivitySource.StartActivity($"kvaspire {Operation(request.Kind)}", ActivityKind.Client);
        activity?.SetTag("db.system.name", "kvaspire");
        activity?.SetTag("db.operation.name", Operation(request.Kind));
        return activity;
    }

    internal static void Finish(Activity? activity, KvOperation request, Reply reply, TimeSpan elapsed)
    {
        var tags = new TagList { { "operation", Operation(request.Kind) }, { "result", reply.Status.ToString() } };
        Calls.Add(1, tags);
        Duration.Record(elapsed.TotalMilliseconds, tags);
        if (activity is null)
            return;
        activity.SetTag("rpc.grpc.status_code", (int)reply.Status);
        activity.SetTag("kvaspire.node", reply.Node);
        activity.SetTag("kvaspire.hops", reply.Hops);
        if (reply.Status is not (StatusCode.OK or StatusCode.NotFound or StatusCode.AlreadyExists or StatusCode.FailedPrecondition))
            activity.SetStatus(ActivityStatusCode.Error, reply.Error);
    }

    private static string Operation(OperationKind kind) => kind.ToString().ToLowerInvariant();
}
