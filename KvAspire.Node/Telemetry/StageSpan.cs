using System.Diagnostics;

namespace KvAspire.Node.Telemetry;

/// <summary>
/// A span that a worker keeps for one request's stage, started and stopped without ever being
/// <see cref="Activity.Current"/> where the worker runs. A worker that serves many requests at once (the
/// apply worker starts one span per write of an entry and stops them in the same order) would otherwise
/// be left with an ended span as its ambient one: each later span keeps the one before it, a chain that
/// lives as long as the worker. A stage span knows only its request's trace, and keeps no other span.
/// </summary>
public readonly struct StageSpan : IDisposable
{
    private StageSpan(Activity activity) => Activity = activity;

    /// <summary>The span, or null when the request belongs to no trace or nobody records this one.</summary>
    public Activity? Activity { get; }

    /// <summary>Starts a span parented to <paramref name="parent"/> only; none when it names no trace.</summary>
    public static StageSpan Start(ActivitySource source, string name, ActivityKind kind, ActivityContext parent)
    {
        if (parent == default)
            return default;
        var ambient = Activity.Current;
        // Started with nothing ambient, so that it neither takes nor keeps whatever ran before on this flow.
        Activity.Current = null;
        var activity = source.StartActivity(name, kind, parent);
        Activity.Current = ambient;
        return activity is null ? default : new StageSpan(activity);
    }

    public void Dispose()
    {
        if (Activity is not { } activity)
            return;
        // Stopping an activity makes the one ambient when it started current again: here, none.
        var ambient = Activity.Current;
        activity.Dispose();
        Activity.Current = ambient;
    }
}
