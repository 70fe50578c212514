using System.Net;
using KvAspire.Configuration;
using KvAspire.Node.Api;
using KvAspire.Node.Pipeline;
using KvAspire.Node.Ring;
using KvAspire.Node.Storage;
using KvAspire.Node.Telemetry;
using Microsoft.AspNetCore.Server.Kestrel.Core;

var builder = WebApplication.CreateBuilder(args);

ClusterTopology topology;
NodeInfo node;
try
{
    var nodeName = builder.Configuration["node"]
        ?? throw new TopologyException("missing --node <name>: which node of the topology this process is");
    topology = TopologyLoader.Load(builder.Configuration["cluster"] ?? "cluster.json");
    node = topology.GetNode(nodeName);
}
catch (TopologyException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    Console.Error.WriteLine("usage: KvAspire.Node --cluster <cluster.json> --node <name>");
    return 2;
}
var dataDirectory = topology.DataDirectoryOf(node);

builder.AddServiceDefaults();
builder.Services.AddOpenTelemetry()
    .WithTracing(tracing => tracing.AddSource(NodeTelemetry.Name))
    .WithMetrics(metrics => metrics.AddMeter(NodeTelemetry.Name));

// Everything the node listens on comes from the topology: gRPC (HTTP/2) and, on RaftPort, HTTP/1.1
// for health now and Raft later (cleartext Kestrel cannot serve both protocols on one port).
builder.WebHost.ConfigureKestrel(kestrel =>
{
    Listen(kestrel, node.Host, node.GrpcPort, HttpProtocols.Http2);
    Listen(kestrel, node.Host, node.RaftPort, HttpProtocols.Http1);
});
builder.Services.AddGrpc(grpc =>
{
    // Room for a value over the limit to arrive and be refused with INVALID_ARGUMENT, not cut off.
    grpc.MaxReceiveMessageSize = Math.Max(4 * 1024 * 1024, 2 * topology.MaxValueBytes + 64 * 1024);
});

builder.Services.AddSingleton(topology);
builder.Services.AddSingleton(node);
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton(services =>
    Recovery.Run(dataDirectory, services.GetRequiredService<ILoggerFactory>().CreateLogger("KvAspire.Node.Recovery")));
builder.Services.AddSingleton<PipelineQueues>();
builder.Services.AddSingleton<IntakeQueue>();
builder.Services.AddSingleton<DurabilityGate>();
builder.Services.AddSingleton<RequestValidator>();
builder.Services.AddSingleton<NodeTelemetry>();
builder.Services.AddSingleton<Snapshotter>();
builder.Services.AddSingleton<LocalRing>();
builder.Services.AddSingleton<PeerClients>();
builder.Services.AddSingleton<Dispatcher>();
// Hosted services stop in reverse order: snapshots stop first, then the dispatcher closes the queues
// behind it, which lets the forwarder, log and apply workers finish every request already accepted.
builder.Services.AddHostedService<ApplyWorker>();
builder.Services.AddHostedService<LogWorker>();
builder.Services.AddHostedService<Forwarder>();
builder.Services.AddHostedService(services => services.GetRequiredService<Dispatcher>());
builder.Services.AddHostedService<SnapshotScheduler>();

var app = builder.Build();
var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("KvAspire.Node");

// Load the snapshot and replay the logs before any port opens: nothing is served from a map that is
// not yet whole.
try
{
    app.Services.GetRequiredService<RecoveredState>();
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

app.MapGrpcService<KeyValueService>().RequireHost($"*:{node.GrpcPort}");
app.MapDefaultEndpoints(requireHost: $"*:{node.RaftPort}");

try
{
    await app.StartAsync();
}
catch (IOException e)
{
    NodeLog.CannotStart(logger, $"cannot listen on {node.GrpcAddress} and {node.HttpAddress}: {e.Message}");
    return 1;
}
NodeLog.Serving(logger, node.Name, node.Position, node.Replica, node.GrpcAddress, node.HttpAddress, dataDirectory);
await app.WaitForShutdownAsync();
return 0;

static void Listen(KestrelServerOptions kestrel, string host, int port, HttpProtocols protocols)
{
    if (IPAddress.TryParse(host, out var address))
        kestrel.Listen(address, port, listen => listen.Protocols = protocols);
    else if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        kestrel.ListenLocalhost(port, listen => listen.Protocols = protocols);
    else
        kestrel.ListenAnyIP(port, listen => listen.Protocols = protocols);
}
