using Grpc.Core;

namespace KvAspire.Bench;

public sealed record BenchOptions(Workload Workload, bool Zipfian, long Keys, int ValueBytes, int Clients, TimeSpan Duration, long? Ops, TimeSpan Warmup, string KeyPrefix, bool Preload = true,
    Func<Task>? BeforeMeasuring = null, WatchProbe? Watch = null);

/// <summary>
/// A YCSB-style benchmark over the public API: preload <c>Keys</c> keys (those already there are kept; skipped when told),
/// run the workload for the warm-up without measuring, wait for <c>BeforeMeasuring</c> if given, then measure it for the duration or number of
/// operations. Callers are spread over the targets (nodes or etcd members), one channel each. With a
/// <c>Watch</c>, its watches are open while the run is measured, and each update's value carries its call's time.
/// </summary>
public sealed class Benchmark(IReadOnlyList<IBenchTarget> targets, TextWriter progress)
{
    public async Task<(LoadReport Load, WatchReport? Watch)> RunAsync(BenchOptions options)
    {
        var value = new string('x', options.ValueBytes);
        var driver = new LoadDriver(progress);
        IBenchTarget Target(int client) => targets[client % targets.Count];

        if (options.Preload)
        {
            progress.WriteLine($"preloading {options.Keys:N0} keys of {options.ValueBytes} B");
            var preload = await driver.RunAsync(options.Clients, options.Keys, null, async (ticket, client) =>
            {
                var status = await Target(client).CreateAsync(options.KeyPrefix + ticket, value);
                return status == StatusCode.AlreadyExists ? StatusCode.OK : status;
            }, "keys");
            if (preload.Failures.Count > 0)
                throw new InvalidOperationException($"preload failed: {string.Join(", ", preload.Failures.Select(f => $"{f.Key} {f.Value}"))}");
        }

        var chooser = new KeyChooser(options.Keys, options.Zipfian);
        var randoms = Enumerable.Range(0, options.Clients).Select(c => new Random(c)).ToArray();
        Task<StatusCode> Operation(long ticket, int client)
        {
            var random = randoms[client];
            var key = options.KeyPrefix + chooser.Next(random);
            return options.Workload.NextIsRead(random)
                ? Target(client).ReadAsync(key)
                : Target(client).UpdateAsync(key, options.Watch is null ? value : WatchProbe.StampedValue(options.ValueBytes));
        }

        if (options.Warmup > TimeSpan.Zero)
        {
            progress.WriteLine($"warming up for {options.Warmup.TotalSeconds:0.#} s");
            await driver.RunAsync(options.Clients, null, options.Warmup, Operation, "ops");
        }
        if (options.BeforeMeasuring is { } signal)
        {
            progress.WriteLine("warmed up; waiting for the signal to measure");
            await signal();
        }
        progress.WriteLine($"workload {options.Workload.Name} ({options.Workload.ReadFraction:P0} reads, {(options.Zipfian ? "zipfian" : "uniform")}), {options.Clients} clients");
        if (options.Watch is { } watch)
        {
            progress.WriteLine("opening the watches");
            await watch.StartAsync();
        }
        var load = await driver.RunAsync(options.Clients, options.Ops, options.Ops is null ? options.Duration : null, Operation, "ops");
        return (load, options.Watch is { } opened ? await opened.StopAsync() : null);
    }
}
