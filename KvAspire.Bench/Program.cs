using System.Globalization;
using KvAspire.Bench;
using KvAspire.Cluster;
using KvAspire.Driver;

using static KvAspire.Bench.BenchCommandLine;

// Exit codes as the console's: 0 every operation succeeded, 2 invalid input, 3 some failed.
const int Success = 0, InvalidInput = 2, Failed = 3;

var parse = CreateRoot().Parse(args);
if (parse.Errors.Count > 0)
{
    foreach (var error in parse.Errors)
        Console.Error.WriteLine($"error: {error.Message}");
    Console.Error.WriteLine("see --help");
    return InvalidInput;
}
parse.RootCommandResult.Command.SetAction((options, _) => RunAsync(options));
return await parse.InvokeAsync();

async Task<int> RunAsync(System.CommandLine.ParseResult options)
{
    var printer = new ReportPrinter(Console.Out, Console.Error, options.GetValue(JsonOption));
    var words = options.GetValue(WordsArgument) ?? [];
    var (loadCount, wordsError) = words switch
    {
        ["bench"] => ((long?)null, (string?)null),
        ["load", var number] when long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1 => (n, null),
        ["load", ..] => (null, "load needs a number of keys from 1 up: load <count>"),
        _ => (null, $"unknown command '{string.Join(' ', words)}'; the commands are:{Environment.NewLine}{Usage}"),
    };
    if (wordsError is not null)
    {
        printer.PrintError(wordsError);
        return InvalidInput;
    }

    CommandLineCluster cluster;
    try
    {
        cluster = CommandLineCluster.Resolve(options.GetValue(NodeOption), options.GetValue(ClusterOption));
    }
    catch (TopologyException e)
    {
        printer.PrintError(e.Message);
        return InvalidInput;
    }
    var (nodes, topology) = cluster;
    var timeout = TimeSpan.FromSeconds(options.GetValue(TimeoutOption));
    var clients = options.GetValue(ClientsOption);
    var valueSize = options.GetValue(ValueSizeOption);
    var maxValueBytes = topology?.MaxValueBytes ?? 1024 * 1024;
    if (timeout <= TimeSpan.Zero || clients < 1 || valueSize < 0 || valueSize > maxValueBytes)
    {
        printer.PrintError($"--timeout-seconds must be above 0, --clients at least 1 and --value-size between 0 and {maxValueBytes}");
        return InvalidInput;
    }

    // Through the client library, as an app calls the cluster: by default it learns the ring and sends
    // each call straight to its key's leader; with --spread, one client per node keeps to it.
    KvClient Client(IReadOnlyList<string> to, bool routeToLeaders) =>
        new(new KvClientOptions { Nodes = [.. to], RequestTimeout = timeout, RouteToLeaders = routeToLeaders });
    LoadReport report;
    if (loadCount is { } count)
    {
        if (nodes.Length == 0)
        {
            printer.PrintError("no node to load: give --node host:port or --cluster <cluster.json>");
            return InvalidInput;
        }
        using var target = new KvAspireTarget(Client(nodes, routeToLeaders: true));
        var prefix = options.GetValue(KeyPrefixOption) ?? $"load-{Guid.NewGuid().ToString("N")[..6]}-";
        var value = new string('x', valueSize);
        Console.Error.WriteLine($"creating {count:N0} keys '{prefix}0'… of {valueSize} B from {clients} clients");
        report = await new LoadDriver(Console.Error).RunAsync(clients, count, null,
            (ticket, _) => target.CreateAsync(prefix + ticket, value), "keys");
        printer.PrintReport("load", $"{count} creates of {valueSize} B, {clients} clients", report);
        return report.Failures.Count == 0 ? Success : Failed;
    }

    var workload = Workload.Find(options.GetValue(WorkloadOption)!);
    var distribution = options.GetValue(DistributionOption);
    var keys = options.GetValue(KeysOption);
    var duration = options.GetValue(DurationOption);
    var ops = options.GetValue(OpsOption);
    var warmup = options.GetValue(WarmupOption);
    if (workload is null || distribution is not (null or "zipfian" or "uniform") || keys < 1 || duration <= 0 || ops < 1 || warmup < 0)
    {
        printer.PrintError("bench needs --workload A|B|C|read|write, --distribution zipfian|uniform, --keys ≥ 1, --duration > 0, --ops ≥ 1, --warmup ≥ 0");
        return InvalidInput;
    }
    var zipfian = distribution is null ? workload.ZipfianByDefault : distribution == "zipfian";
    var watchers = options.GetValue(WatchersOption);
    if (watchers < 0 || watchers > 0 && (options.GetValue(TargetOption) != "kvaspire" || valueSize < WatchProbe.StampBytes))
    {
        printer.PrintError($"--watchers is for --target kvaspire, at least 0, with --value-size of at least {WatchProbe.StampBytes}");
        return InvalidInput;
    }
    var endpoints = options.GetValue(EndpointsOption) ?? [];
    List<IBenchTarget> targets;
    switch (options.GetValue(TargetOption))
    {
        case "kvaspire" when nodes.Length > 0:
            targets = options.GetValue(SpreadOption)
                ? [.. nodes.Select(n => (IBenchTarget)new KvAspireTarget(Client([n], routeToLeaders: false)))]
                : [new KvAspireTarget(Client(nodes, routeToLeaders: true))];
            break;
        case "etcd" when endpoints.Length > 0:
            targets = endpoints.Select(e => (IBenchTarget)new EtcdTarget(e, timeout)).ToList();
            nodes = endpoints;
            break;
        default:
            printer.PrintError("--target is kvaspire (with --node or --cluster) or etcd (with --endpoints)");
            return InvalidInput;
    }
    try
    {
        var keyPrefix = options.GetValue(KeyPrefixOption) ?? "bench-";
        using var watch = watchers > 0 ? new WatchProbe([.. Enumerable.Range(0, watchers).Select(_ => Client(nodes, routeToLeaders: true))], keyPrefix) : null;
        var bench = new BenchOptions(workload, zipfian, keys, valueSize, clients, TimeSpan.FromSeconds(duration), ops,
            TimeSpan.FromSeconds(warmup), keyPrefix, !options.GetValue(SkipPreloadOption),
            options.GetValue(WaitToMeasureOption) ? () => Console.In.ReadLineAsync() : null, watch);
        (report, var watched) = await new Benchmark(targets, Console.Error).RunAsync(bench);
        printer.PrintReport("bench",
            $"{options.GetValue(TargetOption)} workload {workload.Name} {(zipfian ? "zipfian" : "uniform")}, {keys} keys x {valueSize} B, {clients} clients, {nodes.Length} endpoint(s)", report, watched);
        return report.Failures.Count == 0 ? Success : Failed;
    }
    catch (InvalidOperationException e)
    {
        printer.PrintError(e.Message);
        return Failed;
    }
    finally
    {
        targets.ForEach(t => t.Dispose());
    }
}
