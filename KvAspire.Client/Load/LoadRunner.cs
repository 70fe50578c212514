using System.Diagnostics;
using Grpc.Core;
using HdrHistogram;
using KvAspire.Client.Commands;
using KvAspire.Client.Connection;

namespace KvAspire.Client.Load;

/// <summary>What a load run did: throughput, latency percentiles (ms), and failures by status.</summary>
public sealed record LoadReport(long Created, TimeSpan Elapsed, double P50, double P99, double P999, double Max, IReadOnlyDictionary<StatusCode, long> Failures)
{
    public double OpsPerSecond => Created / Elapsed.TotalSeconds;
}

/// <summary>
/// Creates <c>count</c> new keys of <c>valueBytes</c> bytes from <c>clients</c> concurrent callers, as fast
/// as the cluster takes them, printing progress every second. Used to fill a node before measuring it.
/// </summary>
public sealed class LoadRunner(KvConnection connection, TextWriter progress)
{
    public async Task<LoadReport> CreateKeysAsync(long count, int clients, int valueBytes, string keyPrefix)
    {
        var value = new string('x', valueBytes);
        var next = -1L;
        var created = 0L;
        var failures = new Dictionary<StatusCode, long>();
        var histograms = new LongHistogram[clients];
        var stopwatch = Stopwatch.StartNew();

        async Task Client(int client)
        {
            var histogram = histograms[client] = new LongHistogram(Stopwatch.Frequency * 60, 3);
            for (var i = Interlocked.Increment(ref next); i < count; i = Interlocked.Increment(ref next))
            {
                var started = Stopwatch.GetTimestamp();
                var reply = await connection.ExecuteAsync(new ClientCommand(CommandKind.Create, $"{keyPrefix}{i}", value));
                histogram.RecordValue(Math.Min(Stopwatch.GetTimestamp() - started, histogram.HighestTrackableValue));
                if (reply.IsOk)
                    Interlocked.Increment(ref created);
                else
                    lock (failures)
                        failures[reply.Status] = failures.GetValueOrDefault(reply.Status) + 1;
            }
        }

        var run = Task.WhenAll(Enumerable.Range(0, clients).Select(Client));
        while (await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(1))) != run)
        {
            var done = Interlocked.Read(ref created);
            progress.WriteLine($"  {done:N0} / {count:N0} keys, {done / stopwatch.Elapsed.TotalSeconds:N0} ops/s");
        }
        await run;
        stopwatch.Stop();

        var all = new LongHistogram(Stopwatch.Frequency * 60, 3);
        foreach (var histogram in histograms)
            all.Add(histogram);
        double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
        return new LoadReport(created, stopwatch.Elapsed,
            Ms(all.GetValueAtPercentile(50)), Ms(all.GetValueAtPercentile(99)), Ms(all.GetValueAtPercentile(99.9)), Ms(all.GetMaxValue()),
            failures);
    }
}
