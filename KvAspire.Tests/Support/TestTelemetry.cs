using System.Diagnostics.Metrics;
using KvAspire.Node.Telemetry;
using Microsoft.Extensions.DependencyInjection;

namespace KvAspire.Tests.Support;

/// <summary>The node's telemetry for a part built outside a node: its instruments on a meter of their own.</summary>
public static class TestTelemetry
{
    public static NodeTelemetry Create() =>
        new(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>());
}
