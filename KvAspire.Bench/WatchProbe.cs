using System.Diagnostics;
using System.Globalization;
using HdrHistogram;
using KvAspire.Driver;

namespace KvAspire.Bench;

/// <summary>What the watches received during a measured run: changes a second (over all watches) and the lag from a write's call to its event.</summary>
public sealed record WatchReport(int Watchers, long Events, TimeSpan Elapsed, double LagP50, double LagP99, double LagMax)
{
    public double EventsPerSecond => Events / Elapsed.TotalSeconds;
}

/// <summary>
/// Watches of every key under the benchmark's prefix, each on a client of its own, open while the writes
/// are measured. Each write's value starts with the time of its call (<see cref="StampedValue"/>, on this
/// process's clock), so a watch that receives it knows how long after the call it arrived.
/// </summary>
public sealed class WatchProbe(IReadOnlyList<KvClient> clients, string prefix) : IDisposable
{
    /// <summary>Room the call's time takes at the start of a value.</summary>
    public const int StampBytes = 20;

    private const long HighestTrackableTicks = 60L * 1000 * 1000 * 10;

    private readonly CancellationTokenSource _stop = new();
    private readonly LongHistogram _lags = new(HighestTrackableTicks, 3);
    private readonly List<Task> _watches = [];
    private readonly Stopwatch _elapsed = new();
    private long _events;

    /// <summary>A value of <paramref name="bytes"/> bytes (at least <see cref="StampBytes"/>) that starts with the time now.</summary>
    public static string StampedValue(int bytes) =>
        Stopwatch.GetTimestamp().ToString("D20", CultureInfo.InvariantCulture) + new string('x', bytes - StampBytes);

    /// <summary>Opens the watches; returns once each has said where it starts, so that none misses the first writes.</summary>
    public async Task StartAsync()
    {
        var started = new TaskCompletionSource[clients.Count];
        for (var i = 0; i < clients.Count; i++)
        {
            var (client, ready) = (clients[i], started[i] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            _watches.Add(Task.Run(() => WatchAsync(client, ready)));
        }
        await Task.WhenAll(started.Select(s => s.Task)).WaitAsync(TimeSpan.FromSeconds(30));
        _elapsed.Start();
    }

    private async Task WatchAsync(KvClient client, TaskCompletionSource ready)
    {
        try
        {
            await foreach (var change in client.WatchAsync(prefix, new KvWatchOptions { Prefix = true, ProgressNotices = true }, _stop.Token))
            {
                if (change.Kind == KvEventKind.Progress)
                {
                    ready.TrySetResult();
                    continue;
                }
                var arrived = Stopwatch.GetTimestamp();
                if (change.Kind != KvEventKind.Put || !_elapsed.IsRunning
                    || !long.TryParse(change.Text.AsSpan(0, Math.Min(StampBytes, change.Text.Length)), NumberStyles.None, CultureInfo.InvariantCulture, out var called))
                    continue;
                Interlocked.Increment(ref _events);
                lock (_lags)
                    _lags.RecordValue(Math.Clamp((arrived - called) * 10_000_000 / Stopwatch.Frequency, 0, HighestTrackableTicks));
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            ready.TrySetException(e);
            throw;
        }
    }

    /// <summary>Closes the watches and reports what they received since they started.</summary>
    public async Task<WatchReport> StopAsync()
    {
        _elapsed.Stop();
        await _stop.CancelAsync();
        await Task.WhenAll(_watches);
        lock (_lags)
            return new WatchReport(clients.Count, Interlocked.Read(ref _events), _elapsed.Elapsed, _lags.GetValueAtPercentile(50) / 10_000.0,
                _lags.GetValueAtPercentile(99) / 10_000.0, _lags.GetMaxValue() / 10_000.0);
    }

    public void Dispose()
    {
        _stop.Cancel();
        foreach (var client in clients)
            client.Dispose();
        _stop.Dispose();
    }
}
