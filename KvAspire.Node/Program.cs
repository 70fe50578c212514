// One node of the cluster, as a process: it reads its entry of the topology, opens its ports (answering
// "starting" on them), recovers its state from its data directory, then starts in order (pipeline, Raft,
// serving) and stops in reverse. Everything it is made of is registered in NodeServices.cs.
using DotNext.Net.Cluster.Consensus.Raft.Http;
using KvAspire.Cluster;
using KvAspire.Node;
using KvAspire.Node.Api;
using KvAspire.Node.Configuration;
using KvAspire.Node.Consensus;
using KvAspire.Node.Membership;
using KvAspire.Node.Peers;
using KvAspire.Node.Pipeline;
using KvAspire.Node.Ring;
using KvAspire.Node.Startup;
using KvAspire.Node.Storage;
using KvAspire.Node.Telemetry;

// Which node this is, from the command line (or the environment), before anything else is built: its
// ports open first.
var command = new ConfigurationBuilder().AddEnvironmentVariables().AddCommandLine(args).Build();
ClusterTopology topology;
NodeInfo node;
NodeOptions options;
MemberTls tls;
try
{
    var nodeName = command["node"]
        ?? throw new TopologyException("missing --node <name>: which node of the topology this process is");
    topology = TopologyLoader.Load(command["cluster"] ?? "cluster.json");
    node = topology.GetNode(nodeName);
    options = NodeOptions.For(topology);
}
catch (TopologyException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    Console.Error.WriteLine("usage: KvAspire.Node --cluster <cluster.json> --node <name> [--restore <backup directory>]");
    return 2;
}
try
{
    tls = MemberTls.For(topology, node);
}
catch (TopologyException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}
var dataDirectory = topology.DataDirectoryOf(node);

// 1: the ports, from the first moment: until the node serves, the starting host answers on them (alive,
// not ready, what it is doing), so a supervisor that waits for each replica to listen, and a liveness
// probe, see a process that is up.
NodePorts ports;
try
{
    ports = NodePorts.Bind(node);
}
catch (System.Net.Sockets.SocketException e)
{
    Console.Error.WriteLine($"error: cannot listen on {node.BindAddress} ports {node.GrpcPort} and {node.RaftPort}: {e.Message}");
    return 1;
}
using var portsHeld = ports;
await using var startingHost = await StartingHost.StartAsync(node, ports, tls, MemberIdentity.IsEmpty(dataDirectory));

// The node reads its configuration once. Watching it for changes would watch the content root and every
// directory under it, data included: each write to a log would wake a watcher thread that stats the file.
var builder = WebApplication.CreateBuilder([.. args, "--hostBuilder:reloadConfigOnChange=false"]);
// Raft's messages, and the calls that carry many requests' writes (each request has its own spans), trace nothing.
builder.AddServiceDefaults(RaftGroup.Path, ReplicaService.HandOffWritesPath);

// 2: who this node is in its group (on an empty data directory, by asking the other replicas).
var group = new RaftGroup(topology, node);
MemberIdentity identity;
using (var startup = LoggerFactory.Create(logging => logging.AddConsole()))
{
    try
    {
        startingHost.Doing = "asking the other replicas whether its group holds writes";
        identity = await MemberIdentity.ResolveAsync(group, dataDirectory, options, tls, startup.CreateLogger("KvAspire.Node"), CancellationToken.None);
    }
    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
    {
        Console.Error.WriteLine($"error: the data directory {dataDirectory} cannot be used: {e.Message}");
        return 1;
    }
    // A new cluster from a backup: a founding member lays its position's copy down as its starting state.
    if (command["restore"] is { } backup)
    {
        try
        {
            startingHost.Doing = $"restoring from the backup in {backup}";
            BackupRestore.Apply(backup, topology, node, dataDirectory, identity.Founds(group), startup.CreateLogger("KvAspire.Node.Restore"));
        }
        catch (InvalidDataException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"error: --restore {backup}: {e.Message}");
            return 1;
        }
    }
}
builder.AddKvNode(topology, options, node, group, identity, ports, tls);

var app = builder.Build();
var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("KvAspire.Node");

// 3: load the snapshot and replay the logs before anything is served: nothing is served from a map that
// is not yet whole.
try
{
    startingHost.Doing = "replaying its log";
    KeyPlacementRecord.Check(dataDirectory, topology.PlacementTags);
    var recovered = Recovery.Run(dataDirectory, options.EventHistoryBytes, app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("KvAspire.Node.Recovery"));
    app.Services.GetRequiredService<NodeStartup>().Recovered = recovered;
    app.Services.GetRequiredService<NodeTelemetry>().RecordRecovery(recovered.Duration);
    // The layout the node routes with: the one it last took (ring/layout.json), else the topology's.
    _ = app.Services.GetRequiredService<LocalRing>();
}
catch (InvalidDataException e)
{
    NodeLog.CannotStart(logger, e.Message);
    return 2;
}
catch (LogCorruptException e)
{
    NodeLog.LogCorrupt(logger, e.Message);
    return 1;
}
catch (Exception e) when (e is IOException or UnauthorizedAccessException)
{
    NodeLog.CannotStart(logger, $"the data directory {dataDirectory} cannot be used: {e.Message}");
    return 1;
}

// Raft messages are accepted only from members of the position, when members can prove it (a member
// certificate, the secret).
var peers = app.Services.GetRequiredService<PeerAuthentication>();
app.Use(async (context, next) =>
{
    if (context.Request.Path.StartsWithSegments(RaftGroup.Path) && peers.NotPositionMember(context) is { } refusal)
    {
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        await context.Response.WriteAsync($"a Raft message from a caller that is not a member of position {node.Position}: {refusal}");
        return;
    }
    await next(context);
});
app.UseConsensusProtocolHandler();
app.MapGrpcService<KeyValueService>().RequireHost($"*:{node.GrpcPort}");
app.MapGrpcService<LeaseService>().RequireHost($"*:{node.GrpcPort}");
app.MapGrpcService<ClusterInfoService>().RequireHost($"*:{node.GrpcPort}");
app.MapGrpcService<AdminService>().RequireHost($"*:{node.GrpcPort}");
app.MapGrpcService<ReplicaService>().RequireHost($"*:{node.GrpcPort}");
app.MapGrpcHealthChecksService().RequireHost($"*:{node.GrpcPort}");
app.MapGrpcReflectionService().RequireHost($"*:{node.GrpcPort}");
app.MapDefaultEndpoints(requireHost: $"*:{node.RaftPort}");
app.MapGet(GroupStatus.Path, (GroupStatus status) => status.Report()).RequireHost($"*:{node.RaftPort}");

// 4: the pipeline's workers, before Raft, which re-applies committed entries through them as it starts.
var workers = app.Services.GetRequiredService<PipelineWorkers>();
await workers.StartAsync(CancellationToken.None);
// 5: leader changes logged and published from Raft's first one on.
app.Services.GetRequiredService<GroupStatus>().Watch();
// 6: the host takes the ports over (calls made meanwhile wait in their backlog) and Raft starts.
await startingHost.DisposeAsync();
await app.StartAsync();
NodeLog.Serving(logger, node.Name, node.Position, node.Replica, node.GrpcUri, node.HttpUri, dataDirectory);
if (!peers.Enabled)
    NodeLog.NoClusterSecret(logger, ClusterSecret.Variable);
else if (!tls.Enabled)
    NodeLog.Plaintext(logger, topology.SourcePath);

// Shutdown (a signal, or a broken invariant: FailStop), in reverse: the host stops (Raft, then the ports,
// once the requests under way are answered), then the workers finish every request they accepted.
await app.WaitForShutdownAsync();
await workers.StopAsync();
return app.Services.GetRequiredService<FailStop>().Stopped ? 1 : 0;
