using System.CommandLine;
using KvAspire.Client.Commands;
using KvAspire.Client.Connection;
using KvAspire.Client.Console;
using KvAspire.Client.Load;
using KvAspire.Configuration;

var nodeOption = new Option<string[]>("--node")
{
    Description = "A node's gRPC address, host:port (repeat for several; tried in order when one is unavailable)",
    Arity = ArgumentArity.ZeroOrMore,
};
var clusterOption = new Option<string?>("--cluster")
{
    Description = "Topology file whose nodes to use when no --node is given (default: cluster.json here, if present)",
};
var jsonOption = new Option<bool>("--json") { Description = "Print one JSON object per answer" };
var drainOption = new Option<double>("--drain-seconds")
{
    Description = "Interactive mode: how long answers are still shown after sair/exit/quit",
    DefaultValueFactory = _ => 5,
};
var timeoutOption = new Option<double>("--timeout-seconds")
{
    Description = "Deadline of each request",
    DefaultValueFactory = _ => 10,
};
var maxValueOption = new Option<int?>("--max-value-bytes")
{
    Description = "Largest value accepted before sending (default: the topology's MaxValueBytes, else 1 MiB)",
};
var clientsOption = new Option<int>("--clients")
{
    Description = "load: concurrent callers",
    DefaultValueFactory = _ => 64,
};
var valueSizeOption = new Option<int>("--value-size")
{
    Description = "load: bytes per value",
    DefaultValueFactory = _ => 256,
};
var keyPrefixOption = new Option<string?>("--key-prefix")
{
    Description = "load, bench: prefix of the keys (default: load-<random>- for load, bench- for bench)",
};
var workloadOption = new Option<string>("--workload")
{
    Description = "bench: A (50% reads, 50% updates), B (95/5), C (reads), read, write",
    DefaultValueFactory = _ => "A",
};
var distributionOption = new Option<string?>("--distribution")
{
    Description = "bench: zipfian or uniform key choice (default: zipfian for A, B, C; uniform for read, write)",
};
var keysOption = new Option<long>("--keys")
{
    Description = "bench: keys to preload and work on",
    DefaultValueFactory = _ => 10_000,
};
var durationOption = new Option<double>("--duration")
{
    Description = "bench: seconds to measure",
    DefaultValueFactory = _ => 10,
};
var opsOption = new Option<long?>("--ops")
{
    Description = "bench: operations to measure, instead of a duration",
};
var warmupOption = new Option<double>("--warmup")
{
    Description = "bench: seconds of unmeasured work before measuring",
    DefaultValueFactory = _ => 2,
};
var wordsArgument = new Argument<string[]>("command")
{
    Description = "A command to run once (create, read, update, delete); without one, the interactive console starts",
    Arity = ArgumentArity.ZeroOrMore,
};

var root = new RootCommand(
    $"KvAspire client: create, read, update and delete keys on a KvAspire cluster.{Environment.NewLine}{CommandParser.Usage}")
{
    nodeOption, clusterOption, jsonOption, drainOption, timeoutOption, maxValueOption,
    clientsOption, valueSizeOption, keyPrefixOption, workloadOption, distributionOption, keysOption,
    durationOption, opsOption, warmupOption, wordsArgument,
};

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
    var json = options.GetValue(jsonOption);
    var printer = new ReplyPrinter(Console.Out, Console.Error, json);

    ClusterTopology? topology = null;
    var nodes = options.GetValue(nodeOption) ?? [];
    var clusterPath = options.GetValue(clusterOption);
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
        nodes = topology?.Nodes.Select(n => $"{n.Host}:{n.GrpcPort}").ToArray() ?? [];
    if (nodes.Length == 0)
    {
        printer.PrintError("no node to talk to: give --node host:port or --cluster <cluster.json>");
        return ExitCodes.InvalidInput;
    }

    var timeout = options.GetValue(timeoutOption);
    var drain = options.GetValue(drainOption);
    if (timeout <= 0 || drain < 0)
    {
        printer.PrintError("--timeout-seconds must be above 0 and --drain-seconds at least 0");
        return ExitCodes.InvalidInput;
    }

    var parser = new CommandParser(options.GetValue(maxValueOption) ?? topology?.MaxValueBytes ?? 1024 * 1024);
    using var connection = new KvConnection(nodes, TimeSpan.FromSeconds(timeout));
    var words = options.GetValue(wordsArgument) ?? [];
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
            return reply.ExitCode;
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
        case ParsedInput.Load or ParsedInput.Bench:
            return await RunLoadAsync(parsed, options, parser.MaxValueBytes, nodes, connection, printer);
        default:
            return ExitCodes.Success;
    }
}

async Task<int> RunLoadAsync(ParsedInput parsed, ParseResult options, int maxValueBytes, string[] nodes, KvConnection connection, ReplyPrinter printer)
{
    var clients = options.GetValue(clientsOption);
    var valueSize = options.GetValue(valueSizeOption);
    if (clients < 1 || valueSize < 0 || valueSize > maxValueBytes)
    {
        printer.PrintError($"--clients must be at least 1 and --value-size between 0 and {maxValueBytes}");
        return ExitCodes.InvalidInput;
    }

    LoadReport report;
    if (parsed is ParsedInput.Load load)
    {
        var prefix = options.GetValue(keyPrefixOption) ?? $"load-{Guid.NewGuid().ToString("N")[..6]}-";
        var value = new string('x', valueSize);
        Console.Error.WriteLine($"creating {load.Count:N0} keys '{prefix}0'… of {valueSize} B from {clients} clients");
        report = await new LoadDriver(Console.Error).RunAsync(clients, load.Count, null,
            (ticket, _) => connection.ExecuteAsync(new ClientCommand(CommandKind.Create, prefix + ticket, value)), "keys");
        printer.PrintReport("load", $"{load.Count} creates of {valueSize} B, {clients} clients", report);
        return report.Failures.Count == 0 ? ExitCodes.Success : ExitCodes.Unavailable;
    }

    var workload = Workload.Find(options.GetValue(workloadOption)!);
    var distribution = options.GetValue(distributionOption);
    var keys = options.GetValue(keysOption);
    var duration = options.GetValue(durationOption);
    var ops = options.GetValue(opsOption);
    var warmup = options.GetValue(warmupOption);
    if (workload is null || distribution is not (null or "zipfian" or "uniform") || keys < 1 || duration <= 0 || ops < 1 || warmup < 0)
    {
        printer.PrintError("bench needs --workload A|B|C|read|write, --distribution zipfian|uniform, --keys ≥ 1, --duration > 0, --ops ≥ 1, --warmup ≥ 0");
        return ExitCodes.InvalidInput;
    }
    var zipfian = distribution is null ? workload.ZipfianByDefault : distribution == "zipfian";
    var targets = nodes.Select(n => new KvConnection([n], connection.Timeout)).ToList();
    try
    {
        var bench = new BenchOptions(workload, zipfian, keys, valueSize, clients, TimeSpan.FromSeconds(duration), ops,
            TimeSpan.FromSeconds(warmup), options.GetValue(keyPrefixOption) ?? "bench-");
        report = await new Benchmark(targets, Console.Error).RunAsync(bench);
        printer.PrintReport("bench",
            $"workload {workload.Name} {(zipfian ? "zipfian" : "uniform")}, {keys} keys x {valueSize} B, {clients} clients, {nodes.Length} node(s)", report);
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
