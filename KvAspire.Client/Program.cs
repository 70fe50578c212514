using System.CommandLine;
using KvAspire.Client.Commands;
using KvAspire.Client.Shell;
using KvAspire.Cluster;
using KvAspire.Driver;

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

    CommandLineCluster cluster;
    try
    {
        cluster = CommandLineCluster.Resolve(options.GetValue(NodeOption), options.GetValue(ClusterOption));
    }
    catch (TopologyException e)
    {
        printer.PrintError(e.Message);
        return ExitCodes.InvalidInput;
    }
    var (nodes, topology) = cluster;
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

    AdminAccess access;
    try
    {
        access = AdminAccess.From(options.GetValue(CaOption), options.GetValue(CertOption), options.GetValue(KeyOption), topology);
    }
    catch (ArgumentException e)
    {
        printer.PrintError(e.Message);
        return ExitCodes.InvalidInput;
    }
    using var accessHeld = access;

    var parser = new CommandParser(options.GetValue(MaxValueOption) ?? topology?.MaxValueBytes ?? 1024 * 1024);
    // The client library learns the ring from the cluster: every call goes straight to its key's leader once known.
    using var client = new KvClient(new KvClientOptions { Nodes = nodes, RequestTimeout = TimeSpan.FromSeconds(timeout), Authority = access.AuthorityPath });
    var words = options.GetValue(WordsArgument) ?? [];
    var ring = topology is null ? null : new RingReport(topology, access, printer);
    if (words.Length == 0)
        return new InteractiveSession(client, TimeSpan.FromSeconds(timeout), parser, printer, ring, Console.In, TimeSpan.FromSeconds(drain),
            showPrompt: !Console.IsInputRedirected).Run();

    var parsed = parser.ParseWords(words);
    switch (parsed)
    {
        case ParsedInput.Send send:
            var reply = await client.ExecuteAsync(send.Command);
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
            return await ring.WhereIsAsync(whereIs.Key);
        case ParsedInput.List list:
            return await new KeyListing(client, printer).RunAsync(list.Prefix);
        case ParsedInput.Lease lease:
            return await new LeaseCommands(client, printer).RunAsync(lease);
        case ParsedInput.Txn txn:
            return await new TransactionCommand(client, printer).RunAsync(txn);
        case ParsedInput.Watch watch:
            using (var stop = new CancellationTokenSource())
            {
                Console.CancelKeyPress += (_, e) =>
                {
                    e.Cancel = true;
                    stop.Cancel();
                };
                return await new KeyWatching(client, printer).RunAsync(watch.Key, watch.Prefix, stop.Token);
            }
        case ParsedInput.ReplaceReplica when topology is null:
            printer.PrintError(ReplicaReplacement.NeedsTopology);
            return ExitCodes.InvalidInput;
        case ParsedInput.ReplaceReplica replace:
            return await new ReplicaReplacement(topology, access, printer).RunAsync(replace.Node);
        case ParsedInput.RingMove move:
            return await new RingChange(nodes, access, printer).MoveAsync(move.Position, move.RingId);
        case ParsedInput.RingAdd add:
            return await new RingChange(nodes, access, printer).AddAsync(add.Position, add.RingId);
        case ParsedInput.RingRemove remove:
            return await new RingChange(nodes, access, printer).RemoveAsync(remove.Position);
        case ParsedInput.Backup backup:
            return await new RingBackup(nodes, access, printer).RunAsync(backup.Directory);
        default:
            return ExitCodes.Success;
    }
}
