using System.Diagnostics;
using System.Diagnostics.Metrics;
using Grpc.Core;
using KvAspire.Driver.Transport;
using KvAspire.Operations;

namespace KvAspire.Driver;

/// <summary>
/// The client library's traces and metrics, both named <see cref="Name"/>: one client span per call (its
/// gRPC calls, and the nodes' spans, are its children, so an app's trace continues into the cluster) and
/// the calls made and their duration, by operation and outcome.
/// </summary>
public static class KvClientTelemetry
{
    public const string Name = "KvAspire.Driver";

    public static readonly ActivitySource ActivitySource = new(Name);

    private static readonly Meter Meter = new(Name);
    private static readonly Counter<long> Calls = Meter.CreateCounter<long>("kvaspire.client.operations", "{operation}", "Calls made, by operation and result");
    private static readonly Histogram<double> Duration = Meter.CreateHistogram<double>("kvaspire.client.operation.duration", "ms",
        "Time from a call to its answer, retries included");

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
