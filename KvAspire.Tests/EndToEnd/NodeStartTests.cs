using System.Diagnostics;
using System.Net;
using Grpc.Core;
using Grpc.Net.Client;
using KvAspire.Tests.Support;
using KvAspire.V1;

namespace KvAspire.Tests.EndToEnd;

/// <summary>
/// A node listens from its first moment, saying it is starting until it serves; and it refuses to start,
/// with a clear message, rather than run on a bad topology or log.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class NodeStartTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task An_unknown_node_name_exits_2_naming_the_known_nodes()
    {
        var topology = TestTopology.SingleNode(_directory);
        await using var node = NodeProcess.Launch(topology.Path, "p7r7");

        Assert.Equal(2, await node.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("unknown node name 'p7r7'; the nodes are p0r0", node.Output);
    }

    [Fact]
    public async Task A_log_corrupt_before_its_tail_stops_the_start_and_is_left_untouched()
    {
        var topology = TestTopology.SingleNode(_directory);
        Directory.CreateDirectory(topology.DataDirectory);
        var log = Path.Combine(topology.DataDirectory, "log.0");
        File.WriteAllText(log, "definitely not a log file");

        await using var node = NodeProcess.Launch(topology.Path, TestTopology.NodeName);

        Assert.Equal(1, await node.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.True(node.LoggedEvent(4), $"no corrupt-log event (4) in:{Environment.NewLine}{node.Output}");
        Assert.Equal("definitely not a log file", File.ReadAllText(log));
    }

    [Fact]
    public async Task Data_placed_by_whole_keys_stops_a_start_whose_topology_places_by_tags()
    {
        var topology = TestTopology.Ring(_directory, 1, placementTags: true);
        Directory.CreateDirectory(topology.DataDirectory);
        var log = Path.Combine(topology.DataDirectory, "log.0");
        File.WriteAllText(log, "written before placement tags");

        await using var node = NodeProcess.Launch(topology.Path, TestTopology.NodeName);

        Assert.Equal(1, await node.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("its keys were placed by the whole key, and the topology places them by their {tag}", node.Output);
        Assert.Equal("written before placement tags", File.ReadAllText(log));
    }

    [Fact]
    public async Task Replicas_of_a_new_group_started_one_at_a_time_each_waited_on_form_the_group()
    {
        var topology = TestTopology.Ring(_directory, 1, replicas: 3);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var processes = new List<NodeProcess>();
        try
        {
            foreach (var node in topology.Nodes)
            {
                // As a supervisor does: start one, wait until it listens and is alive, then the next.
                processes.Add(NodeProcess.Launch(topology.Path, node.Name));
                await Wait.UntilAsync(() => GroupProbe.IsAliveAsync(node), TimeSpan.FromSeconds(20), $"{node.Name} to listen and be alive");
                if (node != topology.Nodes[0])
                    continue;

                // Alone, the first waits for a peer to answer (once it has built its host): alive, not
                // ready, and no call served, each saying so.
                await Wait.UntilAsync(async () =>
                {
                    using var health = await http.GetAsync(node.HealthAddress);
                    Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
                    return (await health.Content.ReadAsStringAsync()).Contains("asking the other replicas");
                }, TimeSpan.FromSeconds(20), $"{node.Name} to say it asks its peers");
                using var channel = GrpcChannel.ForAddress($"http://{node.GrpcEndPoint}");
                var refused = await Assert.ThrowsAsync<RpcException>(async () =>
                    await new KeyValue.KeyValueClient(channel).ReadAsync(new ReadRequest { Key = "k" }, deadline: DateTime.UtcNow.AddSeconds(10)));
                Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
                Assert.Contains($"{node.Name} is not serving yet: asking the other replicas", refused.Status.Detail);
            }

            var leader = await GroupProbe.WaitForLeaderAsync(topology.Nodes, TimeSpan.FromSeconds(30));
            foreach (var (node, process) in topology.Nodes.Zip(processes))
                await process.WaitServingAsync(node, TimeSpan.FromSeconds(30));
            using var serving = GrpcChannel.ForAddress($"http://{leader.GrpcEndPoint}");
            var kv = new KeyValue.KeyValueClient(serving);
            await kv.CreateAsync(new CreateRequest { Key = "k", Value = Google.Protobuf.ByteString.CopyFromUtf8("v"), Id = new RequestId { ClientId = "start", Sequence = 1 } });
            Assert.Equal("v", (await kv.ReadAsync(new ReadRequest { Key = "k" })).Value.ToStringUtf8());
        }
        finally
        {
            foreach (var process in processes)
                await process.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_node_waiting_for_its_peers_stops_at_once_on_SIGTERM()
    {
        var topology = TestTopology.Ring(_directory, 1, replicas: 3);
        var node = topology.Nodes[0];
        await using var process = NodeProcess.Launch(topology.Path, node.Name);
        await Wait.UntilAsync(() => GroupProbe.IsAliveAsync(node), TimeSpan.FromSeconds(20), $"{node.Name} to be alive");

        var stopping = Stopwatch.StartNew();
        await process.StopAsync();

        Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(10), $"stopped after {stopping.Elapsed.TotalSeconds:F1} s");
        await Wait.UntilAsync(async () => !await GroupProbe.IsAliveAsync(node), TimeSpan.FromSeconds(10), $"{node.Name}'s ports to close");
    }
}
