extern alias client;
extern alias apphost;
using Aspire.Hosting.Testing;
using client::KvAspire.Client.Commands;
using client::KvAspire.Client.Connection;
using KvAspire.Tests.Support;

namespace KvAspire.Tests.Topology;

/// <summary>The AppHost's topology, started by Aspire testing, serves requests.</summary>
[Trait("Category", "Aspire")]
[Collection(AspireCollection.Name)]
public sealed class AppHostTests : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);

    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task The_apphost_starts_the_node_of_cluster_json_and_it_serves_a_create_and_a_read()
    {
        var topology = TestTopology.SingleNode(_directory);
        using var cancel = new CancellationTokenSource(StartTimeout);
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<apphost::Projects.KvAspire_AppHost>(
            [$"--ClusterFile={topology.Path}"], cancel.Token);

        Assert.Contains(builder.Resources, r => r.Name == TestTopology.NodeName);
        await using var app = await builder.BuildAsync(cancel.Token);
        try
        {
            await app.StartAsync(cancel.Token);
            await app.ResourceNotifications.WaitForResourceHealthyAsync(TestTopology.NodeName, cancel.Token);

            using var connection = new KvConnection([topology.GrpcAddress], TimeSpan.FromSeconds(10));
            var created = await connection.ExecuteAsync(new ClientCommand(CommandKind.Create, "aspire", "works"), cancel.Token);
            var read = await connection.ExecuteAsync(new ClientCommand(CommandKind.Read, "aspire"), cancel.Token);

            Assert.True(created.IsOk, $"{created.Status}: {created.Error}");
            Assert.Equal("works", read.Value);
            Assert.Equal(1, read.Version);
            Assert.True(File.Exists(Path.Combine(topology.DataDirectory, "log.0")), "the node keeps its log in its own data directory");
        }
        finally
        {
            await app.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(1));
        }
    }
}

/// <summary>Aspire topologies run one at a time: they share DCP and would compete for the machine's two cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AspireCollection
{
    public const string Name = "Aspire topologies";
}
