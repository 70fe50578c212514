using Google.Protobuf;
using Grpc.Core;
using KvAspire.Cluster;
using KvAspire.Node.Ring;
using KvAspire.Routing;
using KvAspire.Tests.Support;
using KvAspire.V1;
using Microsoft.Extensions.Logging.Abstractions;

namespace KvAspire.Tests.Unit;

/// <summary>
/// The ring's layout as state: its message (from nodes of every release), the refusal of a stale route
/// that carries it, the file a node keeps it in, and a node's view that only moves forward.
/// </summary>
[Trait("Category", "Unit")]
public sealed class RingLayoutTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly ClusterTopology _topology;

    public RingLayoutTests()
    {
        _topology = TopologyLoader.Load(TestTopology.Ring(_directory, positions: 3, replicas: 1).Path);
    }

    public void Dispose() => _directory.Dispose();

    /// <summary>Epoch 2 of the test ring: position 1 moved from the middle of its arc to near position 2's id.</summary>
    private RingLayout Moved(long epoch = 2)
    {
        var first = RingLayout.Of(_topology);
        return first with { Epoch = epoch, PositionIds = [first.PositionIds[0], first.PositionIds[2] + 1000, first.PositionIds[2]] };
    }

    [Fact]
    public void A_layout_crosses_the_wire_whole_and_one_from_before_epochs_is_the_topologys_evenly_spaced_epoch_1()
    {
        var moved = Moved();
        var back = RingLayout.FromMessage(moved.ToMessage());
        Assert.Equal((moved.Epoch, moved.IdBits, moved.PlacementTags), (back.Epoch, back.IdBits, back.PlacementTags));
        Assert.Equal(moved.PositionIds, back.PositionIds);
        Assert.Equal(moved.Members, back.Members);

        var old = RingLayout.Of(_topology).ToMessage();
        old.Epoch = 0;
        old.PositionIds.Clear();
        var read = RingLayout.FromMessage(old);
        Assert.Equal(RingLayout.FirstEpoch, read.Epoch);
        Assert.Equal(RingMath.Even(_topology.IdBits, 3), read.PositionIds);
    }

    [Fact]
    public void A_layout_whose_ids_do_not_match_its_positions_is_refused_saying_why()
    {
        var message = Moved().ToMessage();
        message.PositionIds.RemoveAt(2);
        Assert.Contains("2 ring ids for 3 positions", Assert.Throws<FormatException>(() => RingLayout.FromMessage(message)).Message);
        message.PositionIds.Add(message.PositionIds[0]);
        Assert.Contains("the same ring id", Assert.Throws<FormatException>(() => RingLayout.FromMessage(message)).Message);
    }

    [Fact]
    public void A_stale_routes_refusal_carries_the_newer_layout_and_a_version_mismatch_carries_none()
    {
        var refusal = StaleRoute.Refusal(1, Moved(), "this node routes with a newer one");

        Assert.Equal(StatusCode.FailedPrecondition, refusal.StatusCode);
        Assert.StartsWith("stale route: the request was routed with ring epoch 1", refusal.Status.Detail);
        Assert.Equal(Moved().PositionIds, StaleRoute.LayoutOf(refusal)!.PositionIds);
        Assert.Null(StaleRoute.LayoutOf(new RpcException(new Status(StatusCode.FailedPrecondition, "version 3, expected 2"))));
        Assert.Throws<FormatException>(() => StaleRoute.LayoutOf(new RpcException(new Status(StatusCode.FailedPrecondition, "stale route"),
            new Metadata { { StaleRoute.LayoutTrailer, new byte[] { 0xFF, 0xFF } } })));
    }

    [Fact]
    public void The_epoch_header_reads_back_and_anything_else_is_no_epoch()
    {
        Assert.Equal(7, StaleRoute.EpochOf(new Metadata { StaleRoute.Header(7) }));
        Assert.Null(StaleRoute.EpochOf(new Metadata()));
        Assert.Null(StaleRoute.EpochOf(new Metadata { { StaleRoute.EpochHeader, "-1" } }));
    }

    [Fact]
    public void A_node_starts_at_the_topologys_layout_keeps_it_on_disk_and_takes_only_newer_ones_which_outlive_a_restart()
    {
        var file = RingLayoutFile.In(_directory.File("p1r0"));
        var self = _topology.GetNode("p1r0");
        var ring = new LocalRing(_topology, self, file, TestTelemetry.Create(), NullLogger<LocalRing>.Instance);
        Assert.Equal(RingLayout.FirstEpoch, ring.Epoch);
        Assert.Equal(RingLayout.FirstEpoch, file.Load()!.Epoch);

        var key = Enumerable.Range(0, 10_000).Select(i => $"k{i}").First(k => ring.Locate(k).Owner == 1 && Moved().Ring().OwnerOfKey(k) == 0);
        Assert.True(ring.Adopt(Moved()));
        Assert.Equal(0, ring.Locate(key).Owner);
        Assert.False(ring.Adopt(Moved()));
        Assert.False(ring.Adopt(RingLayout.Of(_topology)));

        var restarted = new LocalRing(_topology, self, file, TestTelemetry.Create(), NullLogger<LocalRing>.Instance);
        Assert.Equal(2, restarted.Epoch);
        Assert.Equal(0, restarted.Locate(key).Owner);
    }

    [Fact]
    public void A_layout_of_another_cluster_is_not_taken_and_a_file_that_is_not_a_layout_stops_the_node_saying_why()
    {
        var file = RingLayoutFile.In(_directory.File("p0r0"));
        var ring = new LocalRing(_topology, _topology.GetNode("p0r0"), file, TestTelemetry.Create(), NullLogger<LocalRing>.Instance);
        var stranger = Moved() with { Members = [.. Moved().Members.Select(m => m with { Name = m.Name + "x" })] };

        Assert.False(ring.Adopt(stranger));
        Assert.False(ring.Adopt(Moved() with { IdBits = 32 }));
        Assert.Equal(RingLayout.FirstEpoch, ring.Epoch);

        File.WriteAllText(file.Path, "{ \"idBits\": 64, \"positions\": 0 }");
        Assert.Contains("is not a ring layout", Assert.Throws<InvalidDataException>(file.Load).Message);
        file.Save(stranger);
        Assert.Contains("places node 'p0r0x' at position 0, which the topology does not",
            Assert.Throws<InvalidDataException>(() => new LocalRing(_topology, _topology.GetNode("p0r0"), file, TestTelemetry.Create(), NullLogger<LocalRing>.Instance)).Message);
    }
}
