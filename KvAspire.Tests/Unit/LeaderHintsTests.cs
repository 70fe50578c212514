using KvAspire.Driver.Transport;
using KvAspire.Routing;
using KvAspire.Tests.Support;

namespace KvAspire.Tests.Unit;

/// <summary>The client's leader hints: none before the ring's layout is known; then one per position, only for that position's nodes, dropped when they fail.</summary>
[Trait("Category", "Unit")]
public sealed class LeaderHintsTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly TestTopology _topology;
    private readonly LeaderHints _hints;

    public LeaderHintsTests()
    {
        _topology = TestTopology.Ring(_directory, positions: 2, replicas: 3);
        _hints = new LeaderHints(NodeChannels.Plaintext);
        _hints.Adopt(RingLayout.Of(KvAspire.Cluster.TopologyLoader.Load(_topology.Path)));
    }

    public void Dispose()
    {
        _hints.Dispose();
        _directory.Dispose();
    }

    [Fact]
    public void Before_the_layout_is_known_no_key_has_a_position_and_no_hint_is_taken()
    {
        using var hints = new LeaderHints(NodeChannels.Plaintext);

        hints.Learn(0, _topology.Nodes[0].GrpcEndPoint);

        Assert.Null(hints.PositionOf("key"));
        Assert.Null(hints.LeaderOf(0));
    }

    [Fact]
    public void The_layout_travels_as_a_message_and_one_that_cannot_be_a_ring_is_refused()
    {
        var layout = RingLayout.Of(KvAspire.Cluster.TopologyLoader.Load(_topology.Path));

        var back = RingLayout.FromMessage(layout.ToMessage());

        Assert.Equal((layout.IdBits, layout.Positions, layout.PlacementTags), (back.IdBits, back.Positions, back.PlacementTags));
        Assert.True(RingLayout.FromMessage((layout with { PlacementTags = true }).ToMessage()).Ring().PlacementTags);
        Assert.Equal(layout.Members, back.Members);
        var outside = layout.ToMessage();
        outside.Nodes[0].Position = 2;
        Assert.Contains("there are 2 positions", Assert.Throws<FormatException>(() => RingLayout.FromMessage(outside)).Message);
        Assert.Throws<FormatException>(() => RingLayout.FromMessage(new KvAspire.V1.Layout { IdBits = 65, Positions = 1 }));
        Assert.Throws<FormatException>(() => RingLayout.FromMessage(new KvAspire.V1.Layout { IdBits = 2, Positions = 5 }));
    }

    [Fact]
    public void A_key_maps_to_the_position_the_nodes_compute()
    {
        var ring = new RingMath(64, 2);
        foreach (var key in Enumerable.Range(0, 50).Select(i => $"key-{i}"))
            Assert.Equal(ring.OwnerOfKey(key), _hints.PositionOf(key));
    }

    [Fact]
    public void A_hint_is_taken_only_for_a_node_of_that_position_and_forgotten_only_by_its_own_address()
    {
        var p0 = _topology.ReplicasOf(0).ToList();
        var p1r0 = _topology.ReplicasOf(1).First();
        Assert.Null(_hints.LeaderOf(0));

        _hints.Learn(0, p1r0.GrpcEndPoint);
        _hints.Learn(0, "127.0.0.1:1");
        _hints.Learn(0, null);
        Assert.Null(_hints.LeaderOf(0));

        _hints.Learn(0, p0[1].GrpcEndPoint);
        Assert.Equal(p0[1].GrpcEndPoint, _hints.LeaderOf(0)?.Address);
        Assert.Null(_hints.LeaderOf(1));

        _hints.Forget(0, p0[2].GrpcEndPoint);
        Assert.Equal(p0[1].GrpcEndPoint, _hints.LeaderOf(0)?.Address);
        _hints.Forget(0, p0[1].GrpcEndPoint);
        Assert.Null(_hints.LeaderOf(0));
    }
}
