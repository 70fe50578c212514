using System.Reflection;
using KvAspire.Configuration;

// One project resource per node of cluster.json (another file with --ClusterFile <path>). Ports are
// fixed and not proxied, so a node keeps its address across restarts and clients reach it directly.
var builder = DistributedApplication.CreateBuilder(args);

var clusterFile = Path.GetFullPath(builder.Configuration["ClusterFile"] ?? DefaultClusterFile());
var topology = TopologyLoader.Load(clusterFile);
// The nodes accept Raft and forwards only from each other: a fresh secret each run unless one is set
// (Parameters:cluster-secret).
var clusterSecret = builder.AddParameter("cluster-secret", new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true);

foreach (var node in topology.Nodes)
{
    builder.AddProject<Projects.KvAspire_Node>(node.Name)
        .WithArgs("--cluster", clusterFile, "--node", node.Name)
        .WithEnvironment(ClusterSecret.Variable, clusterSecret)
        .WithEndpoint(port: node.GrpcPort, targetPort: node.GrpcPort, scheme: "http", name: "grpc", isProxied: false)
        .WithHttpEndpoint(port: node.RaftPort, targetPort: node.RaftPort, name: "http", isProxied: false)
        .WithHttpHealthCheck("/health", endpointName: "http")
        // Who leads the node's position, in which term: a link on the dashboard (and the kvaspire.raft.leader metric).
        .WithUrl($"{node.HttpAddress}/status", "Raft status");
}

builder.Build().Run();

static string DefaultClusterFile() =>
    typeof(TopologyLoader).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .First(a => a.Key == "KvAspire.DefaultClusterFile").Value!;
