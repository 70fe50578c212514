extern alias apphost;
extern alias client;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using client::KvAspire.Client.Commands;
using client::KvAspire.Client.Connection;
using Grpc.Core;
using KvAspire.Ring;
using KvAspire.Tests.Support;

namespace KvAspire.Tests.Topology;

/// <summary>The AppHost's topology, a ring of 4 positions started by Aspire testing, serves the whole key space.</summary>
[Trait("Category", "Aspire")]
[Collection(AspireCollection.Name)]
public sealed class AppHostTests : IDisposable
{
    private const int Positions = 4;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);

    private readonly Support.TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task The_ring_of_cluster_json_starts_under_aspire_and_serves_every_key_through_every_node()
    {
        var topology = TestTopology.Ring(_directory, Positions);
        var ring = new RingMath(64, Positions);
        using var cancel = new CancellationTokenSource(StartTimeout);
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<apphost::Projects.KvAspire_AppHost>(
            [$"--ClusterFile={topology.Path}"], cancel.Token);

        Assert.All(topology.Nodes, node => Assert.Contains(builder.Resources, r => r.Name == node.Name));
        await using var app = await builder.BuildAsync(cancel.Token);
        KvConnection[] connections = [];
        try
        {
            await app.StartAsync(cancel.Token);
            await Task.WhenAll(topology.Nodes.Select(n => app.ResourceNotifications.WaitForResourceHealthyAsync(n.Name, cancel.Token)));
            connections = topology.Nodes.Select(n => new KvConnection([n.GrpcAddress], TimeSpan.FromSeconds(10))).ToArray();

            var keys = Enumerable.Range(0, 16).Select(i => $"<aspire-{i}>").ToList();
            for (var i = 0; i < keys.Count; i++)
            {
                var created = await connections[i % Positions].ExecuteAsync(new ClientCommand(CommandKind.Create, keys[i], $"value {i}"), cancel.Token);
                Assert.True(created.IsOk, $"{keys[i]}: {created.Status} {created.Error}");
                for (var start = 0; start < Positions; start++)
                {
                    var read = await connections[start].ExecuteAsync(new ClientCommand(CommandKind.Read, keys[i]), cancel.Token);
                    Assert.Equal($"value {i}", read.Value);
                    Assert.Equal(start == ring.OwnerOfKey(keys[i]) ? 0 : 1, read.Hops);
                }
                var updated = await connections[(i + 1) % Positions].ExecuteAsync(new ClientCommand(CommandKind.Update, keys[i], "updated", 1), cancel.Token);
                Assert.Equal(2, updated.Version);
                if (i % 2 == 1)
                {
                    Assert.True((await connections[(i + 2) % Positions].ExecuteAsync(new ClientCommand(CommandKind.Delete, keys[i], null, 2), cancel.Token)).IsOk);
                    Assert.Equal(StatusCode.NotFound, (await connections[(i + 3) % Positions].ExecuteAsync(new ClientCommand(CommandKind.Read, keys[i]), cancel.Token)).Status);
                }
            }

            // Each key was written only into its owner's log.
            foreach (var key in keys)
                Assert.Equal([topology.Nodes[ring.OwnerOfKey(key)]], topology.NodesWhoseLogsContain(key));

            // Stop one position from Aspire: its keys fail cleanly, then come back with it.
            const int down = 2;
            var itsKey = keys.First(k => ring.OwnerOfKey(k) == down);
            await app.ResourceCommands.ExecuteCommandAsync(topology.Nodes[down].Name, "stop", cancel.Token);
            await app.ResourceNotifications.WaitForResourceAsync(topology.Nodes[down].Name, KnownResourceStates.TerminalStates, cancel.Token);
            var failed = await connections[0].ExecuteAsync(new ClientCommand(CommandKind.Read, itsKey), cancel.Token);
            Assert.Equal(StatusCode.Unavailable, failed.Status);
            Assert.Contains($"position {down}", failed.Error);

            await app.ResourceCommands.ExecuteCommandAsync(topology.Nodes[down].Name, "start", cancel.Token);
            await app.ResourceNotifications.WaitForResourceHealthyAsync(topology.Nodes[down].Name, WaitBehavior.WaitOnResourceUnavailable, cancel.Token);
            var back = await connections[0].ExecuteAsync(new ClientCommand(CommandKind.Read, itsKey), cancel.Token);
            Assert.True(back.IsOk, $"{back.Status} {back.Error}");
            Assert.Equal(1, back.Hops);
        }
        finally
        {
            foreach (var connection in connections)
                connection.Dispose();
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
