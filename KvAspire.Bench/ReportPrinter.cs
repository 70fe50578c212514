using System.Text.Json;

namespace KvAspire.Bench;

/// <summary>The harness's final line, as text or one JSON object (what bench/*.sh read), and its errors.</summary>
public sealed class ReportPrinter(TextWriter output, TextWriter errors, bool json)
{
    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>Throughput, latency percentiles and failures of a <c>load</c> or a <c>bench</c>, and what its watches received.</summary>
    public void PrintReport(string command, string what, LoadReport report, WatchReport? watch = null) => output.WriteLine(json
        ? JsonSerializer.Serialize(new
        {
            command, what, ok = report.Failures.Count == 0, succeeded = report.Succeeded,
            seconds = report.Elapsed.TotalSeconds, opsPerSecond = report.OpsPerSecond,
            meanMs = report.Mean, p50Ms = report.P50, p90Ms = report.P90, p99Ms = report.P99, p999Ms = report.P999, maxMs = report.Max,
            failures = report.Failures.ToDictionary(f => f.Key.ToString(), f => f.Value),
            watchers = watch?.Watchers, watchEvents = watch?.Events, watchEventsPerSecond = watch?.EventsPerSecond,
            watchLagP50Ms = watch?.LagP50, watchLagP99Ms = watch?.LagP99, watchLagMaxMs = watch?.LagMax,
        }, JsonOptions)
        : $"{command} {what}: {report.Succeeded:N0} ok in {report.Elapsed.TotalSeconds:F1} s = {report.OpsPerSecond:N0} ops/s; " +
          $"latency ms mean {report.Mean:F2}  p50 {report.P50:F2}  p90 {report.P90:F2}  p99 {report.P99:F2}  p99.9 {report.P999:F2}  max {report.Max:F2}" +
          (report.Failures.Count == 0 ? "" : $"; failures: {string.Join(", ", report.Failures.Select(f => $"{f.Key} {f.Value}"))}") +
          (watch is null ? "" : $"; {watch.Watchers} watches received {watch.Events:N0} changes = {watch.EventsPerSecond:N0}/s, " +
                                $"lag from a write's call ms p50 {watch.LagP50:F2}  p99 {watch.LagP99:F2}  max {watch.LagMax:F2}"));

    public void PrintError(string message) =>
        (json ? output : errors).WriteLine(json ? JsonSerializer.Serialize(new { ok = false, error = message }, JsonOptions) : $"error: {message}");
}
