using System.Diagnostics.Metrics;
using KvAspire.Node.Telemetry;
using KvAspire.Tests.Support;

namespace KvAspire.Tests.Unit;

/// <summary>The node's gauges report what each component registered on them, knowing none of the components.</summary>
[Trait("Category", "Unit")]
public sealed class NodeTelemetryTests
{
    [Fact]
    public void The_queue_depth_gauge_reports_each_registered_queue_under_its_label()
    {
        var telemetry = TestTelemetry.Create();
        var depth = 3L;
        telemetry.ObserveQueueDepth("F2", () => depth);
        telemetry.ObserveQueueDepth("F4", () => 7);
        depth = 5;

        var observed = Observe(telemetry, "kvaspire.queue.depth");

        Assert.Equal(new Dictionary<string, double> { ["F2"] = 5, ["F4"] = 7 }, observed);
    }

    [Fact]
    public void The_recovery_gauge_reports_the_start_s_recovery_time()
    {
        var telemetry = TestTelemetry.Create();
        telemetry.RecordRecovery(TimeSpan.FromMilliseconds(42));

        Assert.Equal(42, Assert.Single(Observe(telemetry, "kvaspire.recovery.duration")).Value);
    }

    // One collection of the named instrument of this telemetry's meter: value by its "queue" tag ("" without one).
    private static Dictionary<string, double> Observe(NodeTelemetry telemetry, string instrument)
    {
        var values = new Dictionary<string, double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (i, l) =>
        {
            if (i.Meter == telemetry.Meter && i.Name == instrument)
                l.EnableMeasurementEvents(i);
        };
        void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var queue = "";
            foreach (var tag in tags)
            {
                if (tag.Key == "queue")
                    queue = (string)tag.Value!;
            }
            values[queue] = value;
        }
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) => Record(value, tags));
        listener.SetMeasurementEventCallback<double>((_, value, tags, _) => Record(value, tags));
        listener.Start();
        listener.RecordObservableInstruments();
        return values;
    }
}
