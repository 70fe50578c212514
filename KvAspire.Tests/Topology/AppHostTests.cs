using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Grpc.Core;
using KvAspire.Client.Commands;
using KvAspire.Client.Connection;
using KvAspire.Ring;
using KvAspire.Tests.Support;

namespace KvAspire.Tests.Topology;

/// <summary>
/// A ring of 2 positions × 3 replicas started by the AppHost under Aspire testing: every node serves every
/// key; a leader stopped from Aspire is replaced and writes go on; once back, it catches up.
/// </summary>
[Trait("Category", "Aspire")]
[Collection(AspireCollection.Name)]
public sealed class AppHostTests : IDisposable
{
    private const int Positions = 2;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(4);
    private static readonly TimeSpan ElectionTimeout = TimeSpan.FromSeconds(30);

    private readonly Support.TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task A_replicated_ring_starts_under_aspire_serves_every_key_through_every_node_and_survives_a_leader_stop()
    {
        var topology = TestTopology.Ring(_directory, Positions, replicas: 3);
        var ring = new RingMath(64, Positions);
        using var cancel = new CancellationTokenSource(StartTimeout);
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.KvAspire_AppHost>(
            [$"--ClusterFile={topology.Path}"], cancel.Token);

        Assert.All(topology.Nodes, node => Assert.Contains(builder.Resources, r => r.Name == node.Name));
        await using var app = await builder.BuildAsync(cancel.Token);
        KvConnection[] connections = [];
        try
        {
            await app.StartAsync(cancel.Token);
            await Task.WhenAll(topology.Nodes.Select(n => app.ResourceNotifications.WaitForResourceHealthyAsync(n.Name, cancel.Token)));
            connections = topology.Nodes.Select(n => new KvConnection([n.GrpcAddress], TimeSpan.FromSeconds(10))).ToArray();

            // CRUD through every node: a key's own replicas answer it directly, the others forward it once.
            var keys = Enumerable.Range(0, 12).Select(i => $"<aspire-{i}>").ToList();
            for (var i = 0; i < keys.Count; i++)
            {
                var created = await connections[i % connections.Length].ExecuteAsync(new ConsoleCommand(CommandKind.Create, keys[i], $"value {i}"), cancel.Token);
                Assert.True(created.IsOk, $"{keys[i]}: {created.Status} {created.Error}");
                for (var n = 0; n < connections.Length; n++)
                {
                    var read = await connections[n].ExecuteAsync(new ConsoleCommand(CommandKind.Read, keys[i]), cancel.Token);
                    Assert.Equal($"value {i}", read.Value);
                    Assert.Equal(topology.Nodes[n].Position == ring.OwnerOfKey(keys[i]) ? 0 : 1, read.Hops);
                }
                var updated = await connections[(i + 1) % connections.Length].ExecuteAsync(new ConsoleCommand(CommandKind.Update, keys[i], "updated", 1), cancel.Token);
                Assert.Equal(2, updated.Version);
                if (i % 2 == 1)
                {
                    Assert.True((await connections[(i + 2) % connections.Length].ExecuteAsync(new ConsoleCommand(CommandKind.Delete, keys[i], null, 2), cancel.Token)).IsOk);
                    Assert.Equal(StatusCode.NotFound, (await connections[(i + 3) % connections.Length].ExecuteAsync(new ConsoleCommand(CommandKind.Read, keys[i]), cancel.Token)).Status);
                }
            }

            // Each key is in the logs of its own position's three replicas, and nowhere else.
            foreach (var key in keys)
                Assert.Equal(topology.ReplicasOf(ring.OwnerOfKey(key)), topology.NodesWhoseLogsContain(key));

            // Stop position 0's leader from Aspire: another replica takes over and writes go on through every other node.
            var group = topology.ReplicasOf(0).ToList();
            var leader = await GroupProbe.WaitForLeaderAsync(group, ElectionTimeout);
            await app.ResourceCommands.ExecuteCommandAsync(leader.Name, "stop", cancel.Token);
            await app.ResourceNotifications.WaitForResourceAsync(leader.Name, KnownResourceStates.TerminalStates, cancel.Token);
            var whileDown = Enumerable.Range(0, 200).Select(i => $"<while-down-{i}>").Where(k => ring.OwnerOfKey(k) == 0).Take(8).ToList();
            for (var i = 0; i < whileDown.Count; i++)
            {
                var through = topology.Nodes.Where(n => n != leader).ElementAt(i % (topology.Nodes.Count - 1));
                var created = await connections[through.Position * 3 + through.Replica].ExecuteAsync(new ConsoleCommand(CommandKind.Create, whileDown[i], $"while down {i}"), cancel.Token);
                Assert.True(created.IsOk, $"{whileDown[i]} through {through.Name}: {created.Status} {created.Error}");
            }
            var newLeader = await GroupProbe.WaitForLeaderAsync(group.Where(n => n != leader), ElectionTimeout);
            Assert.NotEqual(leader, newLeader);

            // Back again, the old leader catches up and answers from its own map what the group holds.
            await app.ResourceCommands.ExecuteCommandAsync(leader.Name, "start", cancel.Token);
            await app.ResourceNotifications.WaitForResourceHealthyAsync(leader.Name, WaitBehavior.WaitOnResourceUnavailable, cancel.Token);
            await GroupProbe.WaitCaughtUpAsync(leader, group, ElectionTimeout);
            var backConnection = connections[leader.Position * 3 + leader.Replica];
            for (var i = 0; i < whileDown.Count; i++)
            {
                var read = await backConnection.ExecuteAsync(new ConsoleCommand(CommandKind.Read, whileDown[i]), cancel.Token);
                Assert.Equal($"while down {i}", read.Value);
                Assert.Equal(0, read.Hops);
            }
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
