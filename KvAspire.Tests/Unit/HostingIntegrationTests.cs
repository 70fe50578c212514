using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using KvAspire.Cluster;
using KvAspire.Tests.Support;

namespace KvAspire.Tests.Unit;

/// <summary>The hosting integration's application model, built without running it: resources, grouping, connection string.</summary>
[Trait("Category", "Unit")]
public sealed class HostingIntegrationTests : IDisposable
{
    private readonly Support.TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private sealed class NodeProject : IProjectMetadata
    {
        public string ProjectPath => Paths.RepositoryFile(Path.Combine("KvAspire.Node", "KvAspire.Node.csproj"));
    }

    private IDistributedApplicationBuilder Builder() =>
        DistributedApplication.CreateBuilder(new DistributedApplicationOptions { ProjectDirectory = _directory.Path, DisableDashboard = true });

    [Fact]
    public async Task A_cluster_given_as_positions_by_replicas_is_one_resource_per_position_over_its_nodes_with_a_connection_string()
    {
        var builder = Builder();

        var kv = builder.AddKvAspireCluster<NodeProject>("kv", positions: 2, replicas: 3, firstGrpcPort: 7400, firstRaftPort: 7500);

        var topology = TopologyLoader.Load(kv.Resource.ClusterFile);
        Assert.Equal((2, 6), (topology.Positions, topology.Nodes.Count));
        Assert.Equal(Enumerable.Range(7400, 6), topology.Nodes.Select(n => n.GrpcPort));
        var positions = builder.Resources.OfType<KvAspirePositionResource>().ToList();
        Assert.Equal(["kv-p0", "kv-p1"], positions.Select(p => p.Name));
        Assert.All(positions, p => Assert.Same(kv.Resource, p.Parent));
        foreach (var node in topology.Nodes)
        {
            var project = Assert.Single(builder.Resources.OfType<ProjectResource>(), r => r.Name == node.Name);
            var parent = Assert.Single(project.Annotations.OfType<ResourceRelationshipAnnotation>(), a => a.Type == "Parent");
            Assert.Equal($"kv-p{node.Position}", parent.Resource.Name);
            Assert.Contains(project.Annotations.OfType<ResourceCommandAnnotation>(), c => c.Name == "step-down");
            Assert.Contains(project.Annotations.OfType<ResourceCommandAnnotation>(), c => c.Name == "take-snapshot");
        }
        var connectionString = await kv.Resource.ConnectionStringExpression.GetValueAsync(CancellationToken.None);
        Assert.Equal($"Endpoints={string.Join(",", topology.Nodes.Select(n => n.GrpcEndPoint))}", connectionString);
    }

    [Fact]
    public async Task Spare_nodes_start_on_demand_and_their_position_has_the_command_that_adds_it_to_the_ring()
    {
        var builder = Builder();
        var file = Path.Combine(_directory.Path, "spares.json");
        File.WriteAllText(file, """
            { "Cluster": { "IdBits": 64, "Replicas": 1, "DataDirectory": "data", "Nodes": [
              { "Name": "p0r0", "Position": 0, "Host": "127.0.0.1", "GrpcPort": 7400, "RaftPort": 7500 },
              { "Name": "p1r0", "Position": 1, "Host": "127.0.0.1", "GrpcPort": 7401, "RaftPort": 7501 },
              { "Name": "p2r0", "Position": 2, "Host": "127.0.0.1", "GrpcPort": 7402, "RaftPort": 7502, "Spare": true } ] } }
            """);

        var kv = builder.AddKvAspireCluster<NodeProject>("kv", file);

        var projects = builder.Resources.OfType<ProjectResource>().ToDictionary(p => p.Name);
        Assert.Single(projects["p2r0"].Annotations.OfType<ExplicitStartupAnnotation>());
        Assert.Empty(projects["p0r0"].Annotations.OfType<ExplicitStartupAnnotation>());
        var positions = builder.Resources.OfType<KvAspirePositionResource>().ToDictionary(p => p.Name);
        Assert.Contains(positions["kv-p2"].Annotations.OfType<ResourceCommandAnnotation>(), c => c.Name == "add-position");
        Assert.Contains(positions["kv-p1"].Annotations.OfType<ResourceCommandAnnotation>(), c => c.Name == "remove-position");
        Assert.Empty(positions["kv-p0"].Annotations.OfType<ResourceCommandAnnotation>());
        Assert.Equal("Endpoints=127.0.0.1:7400,127.0.0.1:7401", await kv.Resource.ConnectionStringExpression.GetValueAsync(CancellationToken.None));
    }

    [Fact]
    public void Each_node_has_one_health_check_its_own_and_positions_and_the_cluster_none_so_one_position_without_quorum_turns_only_its_own_nodes_red()
    {
        var builder = Builder();

        var kv = builder.AddKvAspireCluster<NodeProject>("kv", positions: 2, replicas: 1, firstGrpcPort: 7400, firstRaftPort: 7500);

        Assert.Empty(kv.Resource.Annotations.OfType<HealthCheckAnnotation>());
        Assert.All(builder.Resources.OfType<KvAspirePositionResource>(), p => Assert.Empty(p.Annotations.OfType<HealthCheckAnnotation>()));
        Assert.All(builder.Resources.OfType<ProjectResource>(), n => Assert.Single(n.Annotations.OfType<HealthCheckAnnotation>()));
    }

    [Fact]
    public void Arguments_are_guarded_and_the_name_is_a_resource_name()
    {
        Assert.Throws<ArgumentNullException>(() => ((IDistributedApplicationBuilder)null!).AddKvAspireCluster<NodeProject>("kv", positions: 1));
        // A literal "" is refused at build time ([ResourceName] brings Aspire's analyzer); a computed one at run time.
        var empty = string.Empty;
        Assert.Throws<ArgumentException>(() => Builder().AddKvAspireCluster<NodeProject>(empty, positions: 1));
        Assert.Throws<ArgumentException>(() => Builder().AddKvAspireCluster<NodeProject>("kv", clusterFile: ""));
        Assert.Throws<ArgumentOutOfRangeException>(() => Builder().AddKvAspireCluster<NodeProject>("kv", positions: 0));
        Assert.All(typeof(KvAspireHostingExtensions).GetMethods().Where(m => m.Name == nameof(KvAspireHostingExtensions.AddKvAspireCluster)),
            m => Assert.NotNull(m.GetParameters().Single(p => p.Name == "name").GetCustomAttributes(typeof(ResourceNameAttribute), false).SingleOrDefault()));
    }
}
