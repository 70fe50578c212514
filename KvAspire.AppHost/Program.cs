using System.Reflection;
using Microsoft.Extensions.Configuration;

// The cluster of cluster.json (another file with --ClusterFile <path>): one project resource per node,
// on fixed, unproxied ports, so a node keeps its address across restarts and clients reach it directly;
// grouped on the dashboard under the cluster resource "kv", one resource per position. --Tls true: every
// port serves TLS, from a CA and certificates written for this run under obj/kv-tls/.
var builder = DistributedApplication.CreateBuilder(args);

var clusterFile = Path.GetFullPath(builder.Configuration["ClusterFile"] ?? DefaultClusterFile());
var kv = builder.AddKvAspireCluster<Projects.KvAspire_Node>("kv", clusterFile, developmentTls: builder.Configuration.GetValue<bool>("Tls"));

// A sample service using the store through the client integration: http://localhost:5080/counters/{name}.
builder.AddProject<Projects.KvAspire_Sample>("sample")
    .WithReference(kv)
    .WaitFor(kv);

builder.Build().Run();

static string DefaultClusterFile() =>
    typeof(Program).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .First(a => a.Key == "KvAspire.DefaultClusterFile").Value!;
