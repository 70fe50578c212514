using KvAspire.Node.Ring;
using KvAspire.Routing;

namespace KvAspire.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class RoutingTests
{
    [Theory]
    [InlineData(0, 1, new int[0])]
    [InlineData(0, 2, new[] { 1 })]
    [InlineData(0, 8, new[] { 1, 2, 4, 6, 7 })]
    [InlineData(3, 8, new[] { 1, 2, 4, 5, 7 })]
    [InlineData(0, 10, new[] { 1, 2, 4, 6, 8, 9 })]
    public void Fingers_are_the_positions_at_plus_and_minus_powers_of_two(int position, int positions, int[] expected)
    {
        Assert.Equal(expected, new FingerTable(position, new RingMath(64, positions)).Fingers);
    }

    [Theory]
    [InlineData(0, 8, 1, 1)]
    [InlineData(0, 8, 7, 7)]
    [InlineData(0, 8, 3, 2)]
    [InlineData(0, 8, 5, 4)]
    [InlineData(0, 8, 6, 6)]
    [InlineData(0, 4, 2, 2)]
    public void The_next_hop_leaves_the_shortest_remaining_distance(int position, int positions, int owner, int next)
    {
        Assert.Equal(next, new FingerTable(position, new RingMath(64, positions)).NextHop(owner));
    }

    [Fact]
    public void With_ids_given_fingers_and_hops_count_in_ring_order_not_by_number()
    {
        // Ring order (highest id first): 0, 2, 4, 6, 1, 3, 5, 7.
        var ring = new RingMath(8, [200UL, 160UL, 190UL, 150UL, 180UL, 140UL, 170UL, 130UL]);
        var table = new FingerTable(0, ring);

        Assert.Equal([0, 2, 4, 6, 1, 3, 5, 7], ring.RingOrder);
        Assert.Equal([1, 2, 4, 5, 7], table.Fingers); // ±1, ±2, ±4 steps in ring order
        Assert.Equal(1, table.NextHop(3)); // one step short of 3 (5 steps away), as 5 is one step past it
        Assert.Equal(2, table.NextHop(2));
    }

    /// <summary>Every route for N evenly spaced positions, N = 2^1 … 2^16 (m = 64): the hop bounds of SPEC §3.</summary>
    [Fact]
    public void Hops_stay_within_half_log2_N_on_average_and_log2_N_at_most()
    {
        var random = new Random(20261127);
        for (var bits = 1; bits <= 16; bits++)
        {
            var positions = 1 << bits;
            var router = new Router(positions);

            // Fingers are the same relative to every position, so a route depends only on the distance
            // from start to owner: routes from 0 to every position cover every start and every key.
            var hopsByDistance = Enumerable.Range(0, positions).Select(owner => router.Hops(0, owner)).ToArray();
            for (var sample = 0; sample < 200; sample++)
            {
                var (start, owner) = (random.Next(positions), random.Next(positions));
                Assert.Equal(hopsByDistance[(owner - start + positions) % positions], router.Hops(start, owner));
            }

            // Over every start and uniformly spread keys, each distance is equally likely.
            var mean = hopsByDistance.Average();
            Assert.True(mean <= 0.5 * bits, $"N = {positions}: mean {mean:F3} hops > {0.5 * bits}");
            Assert.True(hopsByDistance.Max() <= bits, $"N = {positions}: max {hopsByDistance.Max()} hops > {bits}");
        }
    }

    [Fact]
    public void Keys_spread_over_a_ring_not_a_power_of_two_route_within_the_bounds()
    {
        const int positions = 1000;
        var ring = new RingMath(64, positions);
        var router = new Router(positions);
        var bound = Math.Ceiling(Math.Log2(positions));

        var hops = new List<int>();
        for (var start = 0; start < positions; start += 7)
        {
            for (var key = 0; key < 100; key++)
                hops.Add(router.Hops(start, ring.OwnerOfKey($"key-{start}-{key}")));
        }

        Assert.True(hops.Average() <= 0.5 * Math.Log2(positions), $"mean {hops.Average():F3}");
        Assert.True(hops.Max() <= bound, $"max {hops.Max()}");
    }

    /// <summary>Follows <see cref="FingerTable.NextHop"/> position by position, as F4's workers do.</summary>
    private sealed class Router(int positions)
    {
        private readonly RingMath _ring = new(64, positions);
        private readonly Dictionary<int, FingerTable> _tables = new();

        public int Hops(int start, int owner)
        {
            var hops = 0;
            for (var at = start; at != owner; hops++)
            {
                if (!_tables.TryGetValue(at, out var table))
                    _tables[at] = table = new FingerTable(at, _ring);
                at = table.NextHop(owner);
                Assert.True(hops < positions, "routing loops");
            }
            return hops;
        }
    }
}
