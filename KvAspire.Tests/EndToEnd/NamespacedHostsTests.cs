using KvAspire.Client.Commands;
using KvAspire.Driver.Transport;
using KvAspire.Operations;
using KvAspire.Tests.Support;

namespace KvAspire.Tests.EndToEnd;

/// <summary>
/// Every node its own host: a 2×3 ring with each node in its own network namespace, at its own address on
/// one bridge, binding every interface of its host (ListenAddress) and reached at its address (Host).
/// Nothing of it is left on the machine afterwards.
/// </summary>
[Trait("Category", "EndToEnd")]
[Trait("Category", "Hosts")]
[Collection(NemesisCollection.Name)]
public sealed class NamespacedHostsTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [NamespacedHostsFact]
    public async Task A_ring_of_six_hosts_serves_every_key_through_every_node_and_leaves_no_namespace_behind()
    {
        var hosts = await NetworkHosts.CreateAsync(6);
        var made = hosts.Namespaces.Append(hosts.Switch).ToList();
        await using (hosts)
        {
            Assert.Equal(made.Order(), (await NetworkHosts.ExistingAsync()).Intersect(made).Order());
            var topology = TestTopology.OnHosts(_directory, hosts, positions: 2);
            await using var cluster = await LocalCluster.StartAsync(topology);

            foreach (var (node, i) in topology.Nodes.Select((n, i) => (n, i)))
            {
                using var connection = new KvConnection([node.GrpcEndPoint], TimeSpan.FromSeconds(10));
                var created = await connection.ExecuteAsync(new ConsoleCommand(OperationKind.Create, $"key{i}", $"from {node.Name}"));
                Assert.True(created.IsOk, $"create through {node.Name}: {created.Error}");
            }
            foreach (var node in topology.Nodes)
            {
                using var connection = new KvConnection([node.GrpcEndPoint], TimeSpan.FromSeconds(10));
                for (var i = 0; i < topology.Nodes.Count; i++)
                {
                    var read = await connection.ExecuteAsync(new ConsoleCommand(OperationKind.Read, $"key{i}"));
                    Assert.Equal(($"from {topology.Nodes[i].Name}", 1L), (read.Text, read.Version));
                }
            }

            // The console, from the namespace holding the bridge, at the hosts' own addresses.
            var console = await ClientProcess.RunAsync(["--cluster", topology.Path, "read", "key3"], networkNamespace: hosts.Switch);
            Assert.Equal(0, console.ExitCode);
            Assert.StartsWith($"from {topology.Nodes[3].Name} (version 1,", console.Output);
            var direct = await ClientProcess.RunAsync(["--node", $"{hosts.Addresses[5]}:7000", "update", "key0", "changed"], networkNamespace: hosts.Switch);
            Assert.Equal(0, direct.ExitCode);
        }

        Assert.Empty((await NetworkHosts.ExistingAsync()).Intersect(made));
    }
}
