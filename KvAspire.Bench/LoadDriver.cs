using System.Diagnostics;
using Grpc.Core;
using HdrHistogram;

namespace KvAspire.Bench;

/// <summary>What a run did: successes, throughput, latency mean and percentiles (ms), and failures by status.</summary>
public sealed record LoadReport(
    long Succeeded,
    TimeSpan Elapsed,
    double Mean,
    double P50,
    double P90,
    double P99,
    double P999,
    double Max,
    IReadOnlyDictionary<StatusCode, long> Failures)
{
    public double OpsPerSecond => Succeeded / Elapsed.TotalSeconds;
}

/// <summary>
/// Runs concurrent callers, each taking the next ticket (0, 1, 2, …) and performing one operation for
/// it, until the tickets or the time run out; records every latency in an HdrHistogram and prints
/// progress every second.
/// </summary>
public sealed class LoadDriver(TextWriter progress)
{
    private const long HighestTrackableTicks = 60L * 1000 * 1000 * 10; // 60 s in 100 ns ticks

    /// <param name="operation">Performs ticket t for caller c; a status other than OK counts as a failure.</param>
    /// <param name="maxOps">Tickets to hand out, or null for no limit.</param>
    /// <param name="duration">How long to run, or null to run until the tickets are used.</param>
    public async Task<LoadReport> RunAsync(int clients, long? maxOps, TimeSpan? duration, Func<long, int, Task<StatusCode>> operation, string unit)
    {
        var tickets = -1L;
        var succeeded = 0L;
        var failures = new Dictionary<StatusCode, long>();
        var histograms = new LongHistogram[clients];
        var stopwatch = Stopwatch.StartNew();

        bool Running(out long ticket)
        {
            ticket = Interlocked.Increment(ref tickets);
            return (maxOps is not { } max || ticket < max) && (duration is not { } limit || stopwatch.Elapsed < limit);
        }

        async Task Caller(int client)
        {
            var histogram = histograms[client] = new LongHistogram(HighestTrackableTicks, 3);
            while (Running(out var ticket))
            {
                var started = Stopwatch.GetTimestamp();
                var status = await operation(ticket, client);
                histogram.RecordValue(Math.Min(ToTicks(Stopwatch.GetTimestamp() - started), HighestTrackableTicks));
                if (status == StatusCode.OK)
                    Interlocked.Increment(ref succeeded);
                else
                    lock (failures)
                        failures[status] = failures.GetValueOrDefault(status) + 1;
            }
        }

        var run = Task.WhenAll(Enumerable.Range(0, clients).Select(Caller));
        while (await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(1))) != run)
        {
            var done = Interlocked.Read(ref succeeded);
            var of = maxOps is { } total ? $" / {total:N0}" : "";
            progress.WriteLine($"  {stopwatch.Elapsed.TotalSeconds,5:F0} s  {done:N0}{of} {unit}, {done / stopwatch.Elapsed.TotalSeconds:N0} ops/s");
        }
        await run;
        stopwatch.Stop();

        var all = new LongHistogram(HighestTrackableTicks, 3);
        foreach (var histogram in histograms)
            all.Add(histogram);
        double Ms(double percentile) => all.GetValueAtPercentile(percentile) / 10_000.0;
        return new LoadReport(succeeded, stopwatch.Elapsed, all.GetMean() / 10_000.0, Ms(50), Ms(90), Ms(99), Ms(99.9), all.GetMaxValue() / 10_000.0, failures);
    }

    private static long ToTicks(long stopwatchTicks) => stopwatchTicks * 10_000_000 / Stopwatch.Frequency;
}
