using KvAspire.Cluster;
using KvAspire.Node.Storage;
using KvAspire.Routing;
using KvAspire.Tests.Support;

namespace KvAspire.Tests.Unit;

/// <summary>A position's claim holds exactly the keys the ring places on it, wrap-around range included.</summary>
[Trait("Category", "Unit")]
public sealed class OwnedRangeTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(8)]
    public void A_claim_holds_exactly_the_keys_its_position_owns(int positions)
    {
        using var directory = new TempDirectory();
        var layout = RingLayout.Of(TopologyLoader.Load(TestTopology.Ring(directory, positions).Path));
        var moved = layout with { Epoch = 2, PositionIds = [.. layout.PositionIds.Select((id, p) => p == positions - 1 ? id : id - 12345)] };
        foreach (var ring in new[] { layout, moved })
        {
            var math = ring.Ring();
            var claims = Enumerable.Range(0, positions).Select(p => OwnedRange.Of(ring, p)).ToList();
            for (var i = 0; i < 2000; i++)
            {
                var key = $"key-{i}";
                var owner = math.OwnerOfKey(key);
                for (var p = 0; p < positions; p++)
                    Assert.True(claims[p].Holds(key) == (p == owner), $"{key} (owner {owner}) at position {p}: {claims[p]}");
            }
        }
    }
}
