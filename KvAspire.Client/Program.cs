using System.CommandLine;
using KvAspire.Client.Commands;
using KvAspire.Client.Load;
using KvAspire.Client.Shell;
using KvAspire.Cluster;
using KvAspire.Driver.Transport;
using KvAspire.Operations;

using static KvAspire.Client.ClientOptions;

var root = CreateRoot();

// Parse errors are invalid input (exit 2), which System.CommandLine would report as 1.
var parse = root.Parse(args);
if (parse.Errors.Count > 0)
{
    foreach (var error in parse.Errors)
        Console.Error.WriteLine($"error: {error.Message}");
    Console.Error.WriteLine("see --help");
    return ExitCodes.InvalidInput;
}
root.SetAction((options, _) => RunAsync(options));
return await parse.InvokeAsync();

async Task<int> RunAsync(ParseResult options)
{
    var json = options.GetValue(JsonOption);
    var printer = new ReplyPrinter(Console.Out, Console.Error, json);

    ClusterTopology? topology = null;
    var nodes = options.GetValue(NodeOption) ?? [];
    var clusterPath = options.GetValue(ClusterOption);
    try
    {
        if (clusterPath is not null || File.Exists("cluster.json"))
            topology = TopologyLoader.Load(clusterPath ?? "cluster.json");
    }
    catch (TopologyException e)
    {
        printer.PrintError(e.Message);
        return ExitCodes.InvalidInput;
    }
    if (nodes.Length == 0)
        nodes = topology?.Nodes.Select(n => n.GrpcEndPoint).ToArray() ?? [];
    if (nodes.Length == 0)
    {
        printer.PrintError("no node to talk to: give --node host:port or --cluster <cluster.json>");
        return ExitCodes.InvalidInput;
    }

    var timeout = options.GetValue(TimeoutOption);
    var drain = options.GetValue(DrainOption);
    if (timeout <= 0 || drain < 0)
    {
        printer.PrintError("--timeout-seconds must be above 0 and --drain-seconds at least 0");
        return ExitCodes.InvalidInput;
    }

    var parser = new CommandParser(options.GetValue(MaxValueOption) ?? topology?.MaxValueBytes ?? 1024 * 1024);
    // The ring's layout is learned from the cluster: every call goes straight to its key's leader once known.
    using var leaders = new LeaderHints();
    using var connection = new KvConnection(nodes, TimeSpan.FromSeconds(timeout), leaders);
    var words = options.GetValue(WordsArgument) ?? [];
    var ring = topology is null ? null : new RingReport(topology, printer);
    if (words.Length == 0)
        return new InteractiveSession(connection, parser, printer, ring, Console.In, TimeSpan.FromSeconds(drain),
            showPrompt: !Console.IsInputRedirected).Run();

    var parsed = parser.ParseWords(words);
    switch (parsed)
    {
        case ParsedInput.Send send:
            var reply = await connection.ExecuteAsync(send.Command);
            printer.Print(send.Command, reply);
            return ExitCodes.Of(reply);
        case ParsedInput.Invalid invalid:
            printer.PrintError(invalid.Error);
            return ExitCodes.InvalidInput;
        case ParsedInput.Help:
            printer.PrintLine(CommandParser.Usage);
            return ExitCodes.Success;
        case ParsedInput.Ring or ParsedInput.WhereIs when ring is null:
            printer.PrintError(RingReport.NeedsTopology);
            return ExitCodes.InvalidInput;
        case ParsedInput.Ring:
            return await ring.ShowAsync();
        case ParsedInput.WhereIs whereIs:
            return ring.WhereIs(whereIs.Key);
        case ParsedInput.ReplaceReplica when topology is null:
            printer.PrintError(ReplicaReplacement.NeedsTopology);
            return ExitCodes.InvalidInput;
        case ParsedInput.ReplaceReplica replace:
            return await new ReplicaReplacement(topology, printer).RunAsync(replace.Node);
        case ParsedInput.Load or ParsedInput.Bench:
            return await RunLoadAsync(parsed, options, parser.MaxValueBytes, nodes, connection, leaders, printer);
        default:
            return ExitCodes.Success;
    }
}

async Task<int> RunLoadAsync(ParsedInput parsed, ParseResult options, int maxValueBytes, string[] nodes, KvConnection connection,
    LeaderHints leaders, ReplyPrinter printer)
{
    var clients = options.GetValue(ClientsOption);
    var valueSize = options.GetValue(ValueSizeOption);
    if (clients < 1 || valueSize < 0 || valueSize > maxValueBytes)
    {
        printer.PrintError($"--clients must be at least 1 and --value-size between 0 and {maxValueBytes}");
        return ExitCodes.InvalidInput;
    }

    LoadReport report;
    if (parsed is ParsedInput.Load load)
    {
        var prefix = options.GetValue(KeyPrefixOption) ?? $"load-{Guid.NewGuid().ToString("N")[..6]}-";
        var value = new string('x', valueSize);
        Console.Error.WriteLine($"creating {load.Count:N0} keys '{prefix}0'… of {valueSize} B from {clients} clients");
        report = await new LoadDriver(Console.Error).RunAsync(clients, load.Count, null,
            (ticket, _) => connection.ExecuteAsync(new ConsoleCommand(OperationKind.Create, prefix + ticket, value)), "keys");
        printer.PrintReport("load", $"{load.Count} creates of {valueSize} B, {clients} clients", report);
        return report.Failures.Count == 0 ? ExitCodes.Success : ExitCodes.Unavailable;
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
        return ExitCodes.InvalidInput;
    }
    var zipfian = distribution is null ? workload.ZipfianByDefault : distribution == "zipfian";
    var endpoints = options.GetValue(EndpointsOption) ?? [];
    List<IBenchTarget> targets;
    switch (options.GetValue(TargetOption))
    {
        case "kvaspire":
            var routing = options.GetValue(SpreadOption) ? null : leaders;
            targets = nodes.Select(n => (IBenchTarget)new KvAspireTarget(new KvConnection([n], connection.Timeout, routing))).ToList();
            break;
        case "etcd" when endpoints.Length > 0:
            targets = endpoints.Select(e => (IBenchTarget)new EtcdTarget(e, connection.Timeout)).ToList();
            nodes = endpoints;
            break;
        default:
            printer.PrintError("--target is kvaspire or etcd, and etcd needs --endpoints");
            return ExitCodes.InvalidInput;
    }
    try
    {
        var bench = new BenchOptions(workload, zipfian, keys, valueSize, clients, TimeSpan.FromSeconds(duration), ops,
            TimeSpan.FromSeconds(warmup), options.GetValue(KeyPrefixOption) ?? "bench-", !options.GetValue(SkipPreloadOption),
            options.GetValue(WaitToMeasureOption) ? () => Console.In.ReadLineAsync() : null);
        report = await new Benchmark(targets, Console.Error).RunAsync(bench);
        printer.PrintReport("bench",
            $"{options.GetValue(TargetOption)} workload {workload.Name} {(zipfian ? "zipfian" : "uniform")}, {keys} keys x {valueSize} B, {clients} clients, {nodes.Length} endpoint(s)", report);
        return report.Failures.Count == 0 ? ExitCodes.Success : ExitCodes.Unavailable;
    }
    catch (InvalidOperationException e)
    {
        printer.PrintError(e.Message);
        return ExitCodes.Unavailable;
    }
    finally
    {
        targets.ForEach(t => t.Dispose());
    }
}
