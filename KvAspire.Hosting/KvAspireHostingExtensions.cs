using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Grpc.Core;
using Grpc.Net.Client;
using KvAspire.Configuration;
using KvAspire.V1;
using Microsoft.Extensions.DependencyInjection;

namespace KvAspire.Hosting;

/// <summary>Adds a KvAspire cluster to an AppHost, the way <c>AddRedis</c> adds Redis.</summary>
public static class KvAspireHostingExtensions
{
    /// <summary>
    /// Adds every node of <paramref name="clusterFile"/> as a project resource (<typeparamref name="TNode"/>,
    /// the KvAspire.Node project), on its fixed, unproxied ports, grouped on the dashboard under one
    /// resource per position and those under the cluster resource named <paramref name="name"/>.
    /// <c>WithReference(cluster)</c> gives a project the connection string <c>ConnectionStrings__{name}</c>;
    /// <c>WaitFor(cluster)</c> waits until every position is ready. The nodes share a cluster secret,
    /// fresh each run unless the parameter <c>{name}-secret</c> is set. Each node has the dashboard
    /// commands "Step down" and "Take snapshot".
    /// </summary>
    public static IResourceBuilder<KvAspireClusterResource> AddKvAspireCluster<TNode>(this IDistributedApplicationBuilder builder, string name,
        string clusterFile)
        where TNode : IProjectMetadata, new()
    {
        var path = Path.GetFullPath(clusterFile);
        var topology = TopologyLoader.Load(path);
        var secret = builder.AddParameter($"{name}-secret", new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true);
        var cluster = builder.AddResource(new KvAspireClusterResource(name, topology, path))
            .WithInitialState(Snapshot("KvAspire cluster"))
            .WithReadiness(builder, $"{name}-ready", topology.Nodes);

        foreach (var position in topology.Nodes.GroupBy(n => n.Position).OrderBy(g => g.Key))
        {
            var positionResource = builder.AddResource(new KvAspirePositionResource($"{name}-p{position.Key}", position.Key, cluster.Resource))
                .WithParentRelationship(cluster)
                .WithInitialState(Snapshot("KvAspire position"))
                .WithReadiness(builder, $"{name}-p{position.Key}-ready", [.. position]);
            foreach (var node in position.OrderBy(n => n.Replica))
            {
                builder.AddProject<TNode>(node.Name)
                    .WithArgs("--cluster", path, "--node", node.Name)
                    .WithEnvironment(ClusterSecret.Variable, secret)
                    .WithEndpoint(port: node.GrpcPort, targetPort: node.GrpcPort, scheme: "http", name: "grpc", isProxied: false)
                    .WithHttpEndpoint(port: node.RaftPort, targetPort: node.RaftPort, name: "http", isProxied: false)
                    // /health is ready (its group has a leader); a node whose position lost its quorum shows unhealthy.
                    .WithHttpHealthCheck("/health", endpointName: "http")
                    // Who leads the node's position, in which term: a link on the dashboard (and the kvaspire.raft.leader metric).
                    .WithUrl($"{node.HttpAddress}/status", "Raft status")
                    .WithAdminCommand("step-down", "Step down as leader", node, secret,
                        async (admin, headers, cancel) => (await admin.StepDownAsync(new StepDownRequest(), headers, cancellationToken: cancel)).WasLeader
                            ? $"{node.Name} stepped down; its position elects another leader"
                            : $"{node.Name} does not lead position {node.Position}: nothing to do")
                    .WithAdminCommand("take-snapshot", "Take snapshot", node, secret,
                        async (admin, headers, cancel) => await admin.TakeSnapshotAsync(new TakeSnapshotRequest(), headers, cancellationToken: cancel) is
                            { Taken: true } taken
                            ? $"{node.Name} wrote snap.{taken.Number} up to index {taken.LastIndex}"
                            : $"{node.Name} has nothing new since its newest snapshot")
                    .WithParentRelationship(positionResource);
            }
        }
        return cluster;
    }

    private static CustomResourceSnapshot Snapshot(string type) => new()
    {
        ResourceType = type,
        State = KnownResourceStates.Running,
        Properties = [],
    };

    private static IResourceBuilder<T> WithReadiness<T>(this IResourceBuilder<T> resource, IDistributedApplicationBuilder builder, string key,
        IEnumerable<NodeInfo> nodes)
        where T : IResource
    {
        var positions = nodes.GroupBy(n => n.Position)
            .Select(g => (g.Key, (IReadOnlyList<string>)[.. g.Select(n => $"{n.HttpAddress}/health")]))
            .ToList();
        builder.Services.AddHealthChecks().AddCheck(key, new KvAspireReadiness(positions));
        return resource.WithHealthCheck(key);
    }

    /// <summary>A dashboard command that calls the node's Admin service (with the cluster secret) and shows its answer.</summary>
    private static IResourceBuilder<ProjectResource> WithAdminCommand(this IResourceBuilder<ProjectResource> resource, string name, string displayName,
        NodeInfo node, IResourceBuilder<ParameterResource> secret, Func<Admin.AdminClient, Metadata, CancellationToken, Task<string>> call) =>
        resource.WithCommand(name, displayName, async context =>
        {
            try
            {
                using var channel = GrpcChannel.ForAddress(node.GrpcAddress);
                var headers = new Metadata { { ClusterSecret.Header, await secret.Resource.GetValueAsync(context.CancellationToken) ?? "" } };
                return CommandResults.Success(await call(new Admin.AdminClient(channel), headers, context.CancellationToken));
            }
            catch (RpcException e)
            {
                return CommandResults.Failure($"{node.Name}: {e.Status.StatusCode}: {e.Status.Detail}");
            }
        }, new CommandOptions { Description = $"{displayName} ({node.Name})" });
}
