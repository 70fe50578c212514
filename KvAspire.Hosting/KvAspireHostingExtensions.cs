using Aspire.Hosting.ApplicationModel;
using Grpc.Core;
using Grpc.Net.Client;
using KvAspire.Cluster;
using KvAspire.Security;
using KvAspire.V1;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Aspire.Hosting;

/// <summary>Adds a KvAspire cluster to an AppHost, the way <c>AddRedis</c> adds Redis.</summary>
public static class KvAspireHostingExtensions
{
    /// <summary>
    /// Adds every node of <paramref name="clusterFile"/> as a project resource (<typeparamref name="TNode"/>,
    /// the KvAspire.Node project), on its fixed, unproxied ports, grouped on the dashboard under one
    /// resource per position and those under the cluster resource named <paramref name="name"/>.
    /// <c>WithReference(cluster)</c> gives a project the connection string <c>ConnectionStrings__{name}</c>
    /// (<c>Endpoints=host:port,…</c>: the client learns the rest from the cluster); <c>WaitFor(cluster)</c>
    /// waits until every position is ready. A node is healthy while it is ready (its <c>/health</c>: its group
    /// has a leader), a position while one of its nodes is, the cluster while every position is. The nodes
    /// share a cluster secret, fresh each run unless the parameter <c>{name}-secret</c> is set. Each node
    /// has the dashboard commands "Step down" and "Take snapshot". With <paramref name="developmentTls"/>
    /// (or a topology that names certificates, <c>Cluster.Tls</c>) every port serves TLS: the AppHost writes
    /// a CA and a certificate per node under its <c>obj/</c> folder, the connection string adds <c>Ca=</c>
    /// (its CA's file), and the AppHost's own calls (health, commands) trust that CA alone.
    /// </summary>
    public static IResourceBuilder<KvAspireClusterResource> AddKvAspireCluster<TNode>(this IDistributedApplicationBuilder builder,
        [ResourceName] string name, string clusterFile, bool developmentTls = false)
        where TNode : IProjectMetadata, new()
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(clusterFile);
        var path = Path.GetFullPath(clusterFile);
        if (developmentTls)
            path = DevelopmentTls.Write(builder.AppHostDirectory, name, path);
        var topology = TopologyLoader.Load(path);
        var authority = topology.Tls is { } tls ? ClusterAuthority.Load(tls.AuthorityPath) : null;
        var secret = builder.AddParameter($"{name}-secret", new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true);
        var cluster = builder.AddResource(new KvAspireClusterResource(name, topology, path))
            .WithInitialState(Snapshot("KvAspire cluster"));

        var positions = new List<KvAspirePositionResource>();
        foreach (var position in topology.Nodes.GroupBy(n => n.Position).OrderBy(g => g.Key))
        {
            // A spare position (its nodes "Spare" in the topology) is started on demand, then added to the ring by its command.
            var spare = position.First().Spare;
            var first = position.OrderBy(n => n.Replica).First();
            var positionResource = builder.AddResource(new KvAspirePositionResource($"{name}-p{position.Key}", position.Key, cluster.Resource))
                .WithParentRelationship(cluster)
                .WithInitialState(spare ? Snapshot("KvAspire spare position") with { State = new(SpareState, KnownResourceStateStyles.Info) } : Snapshot("KvAspire position"));
            if (spare)
            {
                positionResource.WithAdminCommand("add-position", "Add to the ring", first, topology.Tls, authority, secret,
                    (admin, headers, cancel) => LastStepAsync(admin.AddPosition(new AddPositionRequest { Position = position.Key }, headers, cancellationToken: cancel), cancel),
                    $"start its nodes first; it joins at the middle of the widest arc and takes the keys up to it (run by {first.Name})");
            }
            else
            {
                positions.Add(positionResource.Resource);
                if (position.Key > 0)
                {
                    positionResource.WithAdminCommand("remove-position", "Remove from the ring", first, topology.Tls, authority, secret,
                        (admin, headers, cancel) => LastStepAsync(admin.RemovePosition(new RemovePositionRequest { Position = position.Key }, headers, cancellationToken: cancel), cancel),
                        $"the newest position only: its keys go to its successor (run by {first.Name})");
                }
            }
            foreach (var node in position.OrderBy(n => n.Replica))
            {
                var resource = builder.AddProject<TNode>(node.Name)
                    .WithArgs("--cluster", path, "--node", node.Name)
                    .WithEnvironment(ClusterSecret.Variable, secret)
                    .WithEndpoint(port: node.GrpcPort, targetPort: node.GrpcPort, scheme: node.Scheme, name: "grpc", isProxied: false)
                    .WithEndpoint(port: node.RaftPort, targetPort: node.RaftPort, scheme: node.Scheme, name: "http", isProxied: false);
                // /health is ready (its group has a leader); a node whose position lost its quorum shows unhealthy.
                if (authority is null)
                {
                    resource.WithHttpHealthCheck("/health", endpointName: "http");
                }
                else
                {
                    var check = $"{node.Name}-ready";
                    builder.Services.AddHealthChecks().AddCheck(check, new NodeReadinessCheck(node, authority));
                    resource.WithHealthCheck(check);
                }
                resource
                    // Who leads the node's position, in which term: a link on the dashboard (and the kvaspire.raft.leader metric).
                    .WithUrl($"{node.HttpUri}/status", "Raft status")
                    .WithAdminCommand("step-down", "Step down as leader", node, topology.Tls, authority, secret,
                        async (admin, headers, cancel) => (await admin.StepDownAsync(new StepDownRequest(), headers, cancellationToken: cancel)).WasLeader
                            ? $"{node.Name} stepped down; its position holds an election"
                            : $"{node.Name} does not lead position {node.Position}: nothing to do")
                    .WithAdminCommand("take-snapshot", "Take snapshot", node, topology.Tls, authority, secret,
                        async (admin, headers, cancel) => await admin.TakeSnapshotAsync(new TakeSnapshotRequest(), headers, cancellationToken: cancel) is
                            { Taken: true } taken
                            ? $"{node.Name} wrote snap.{taken.Number} up to index {taken.LastIndex}"
                            : $"{node.Name} has nothing new since its newest snapshot")
                    .WithParentRelationship(positionResource);
                if (spare)
                    resource.WithExplicitStart();
            }
        }

        // Positions and the cluster take their health from the nodes' checks, not checks of their own: Aspire
        // adds an ancestor's checks to every child's, and one position without quorum would turn every node red.
        var health = new KvAspireClusterHealth(cluster.Resource, positions);
        builder.Eventing.Subscribe<InitializeResourceEvent>(cluster.Resource, (initialized, cancellationToken) =>
        {
            // Runs for the AppHost's lifetime, not the event's.
            var stopping = initialized.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
            _ = health.FollowAsync(initialized.Notifications, stopping);
            return Task.CompletedTask;
        });
        return cluster;
    }

    /// <summary>
    /// Adds a cluster of <paramref name="positions"/> × <paramref name="replicas"/> nodes on loopback, written
    /// as <c>{name}.cluster.json</c> under the AppHost's <c>obj/</c> folder (the file every node and the
    /// client integration read): node <c>p{i}r{j}</c> serves gRPC on <paramref name="firstGrpcPort"/> + n and
    /// Raft on <paramref name="firstRaftPort"/> + n, keeping its data in <c>data/{name}/</c> under the AppHost
    /// (<c>data/{name}-tls/</c> with <paramref name="developmentTls"/>).
    /// </summary>
    public static IResourceBuilder<KvAspireClusterResource> AddKvAspireCluster<TNode>(this IDistributedApplicationBuilder builder,
        [ResourceName] string name, int positions, int replicas = 3, int firstGrpcPort = 7000, int firstRaftPort = 7100, bool developmentTls = false)
        where TNode : IProjectMetadata, new()
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (positions < 1 || replicas < 1)
            throw new ArgumentOutOfRangeException(nameof(positions), "a cluster needs at least one position of at least one replica");
        var nodes = Enumerable.Range(0, positions * replicas).Select(n =>
            $$"""{ "Name": "p{{n / replicas}}r{{n % replicas}}", "Position": {{n / replicas}}, "Host": "127.0.0.1", "GrpcPort": {{firstGrpcPort + n}}, "RaftPort": {{firstRaftPort + n}} }""");
        var data = System.Text.Json.JsonSerializer.Serialize(Path.Combine(builder.AppHostDirectory, "data", name));
        var file = Path.Combine(builder.AppHostDirectory, "obj", $"{name}.cluster.json");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllText(file, $$"""
            { "Cluster": { "IdBits": 64, "Replicas": {{replicas}}, "DataDirectory": {{data}}, "SnapshotIntervalSeconds": 30,
              "Nodes": [ {{string.Join(",\n    ", nodes)}} ] } }
            """);
        return builder.AddKvAspireCluster<TNode>(name, file, developmentTls);
    }

    private static CustomResourceSnapshot Snapshot(string type) => new()
    {
        ResourceType = type,
        State = KnownResourceStates.Starting,
        Properties = [],
    };

    /// <summary>The state of a spare position's resource until it is added: its nodes wait to be started.</summary>
    public const string SpareState = "Spare";

    /// <summary>What a move that ran to the end says: its last step, and what it copied.</summary>
    private static async Task<string> LastStepAsync(AsyncServerStreamingCall<MoveProgress> call, CancellationToken cancellationToken)
    {
        using (call)
        {
            MoveProgress? last = null;
            await foreach (var progress in call.ResponseStream.ReadAllAsync(cancellationToken))
                last = progress;
            return last is { Step: "done" }
                ? $"{last.Detail}; position {last.Giver} gave {last.KeysMoved} keys ({last.BytesMoved} bytes) to position {last.Taker}"
                : $"the node's stream ended at step '{last?.Step ?? "none"}' before the move finished; the giver's leader takes it on by itself, and the layout shows its epoch once it is done";
        }
    }

    /// <summary>
    /// A dashboard command that calls the node's Admin service (with the cluster secret and, over TLS, the
    /// node's own member certificate) and shows its answer.
    /// </summary>
    private static IResourceBuilder<T> WithAdminCommand<T>(this IResourceBuilder<T> resource, string name, string displayName,
        NodeInfo node, TopologyTls? tls, ClusterAuthority? authority, IResourceBuilder<ParameterResource> secret,
        Func<Admin.AdminClient, Metadata, CancellationToken, Task<string>> call, string? description = null) where T : IResource =>
        resource.WithCommand(name, displayName, async context =>
        {
            try
            {
                using var member = tls is null ? null : ClusterAuthority.LoadCertificate(tls.CertificateOf(node), tls.KeyOf(node));
                using var channel = GrpcChannel.ForAddress(node.GrpcUri, new GrpcChannelOptions
                {
                    HttpHandler = authority?.Handler(() => member!) ?? new SocketsHttpHandler(),
                });
                var headers = new Metadata { { ClusterSecret.Header, await secret.Resource.GetValueAsync(context.CancellationToken) ?? "" } };
                return CommandResults.Success(await call(new Admin.AdminClient(channel), headers, context.CancellationToken));
            }
            catch (RpcException e)
            {
                return CommandResults.Failure($"{node.Name}: {e.Status.StatusCode}: {e.Status.Detail}");
            }
        }, new CommandOptions { Description = description ?? $"{displayName} ({node.Name})" });
}
