using KvAspire.Tests.Support;

namespace KvAspire.Tests.EndToEnd;

/// <summary>A node refuses to start, with a clear message, rather than run on a bad topology or log.</summary>
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
}
