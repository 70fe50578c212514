using KvAspire.Routing;

namespace KvAspire.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class RingMathTests
{
    [Theory]
    [InlineData(64, 1, new[] { 0xFFFF_FFFF_FFFF_FFFFUL })]
    [InlineData(64, 4, new[] { 0xFFFF_FFFF_FFFF_FFFFUL, 0xBFFF_FFFF_FFFF_FFFFUL, 0x7FFF_FFFF_FFFF_FFFFUL, 0x3FFF_FFFF_FFFF_FFFFUL })]
    [InlineData(64, 3, new[] { 0xFFFF_FFFF_FFFF_FFFFUL, 0xAAAA_AAAA_AAAA_AAAAUL, 0x5555_5555_5555_5555UL })]
    [InlineData(4, 3, new[] { 15UL, 10UL, 5UL })]
    [InlineData(3, 8, new[] { 7UL, 6UL, 5UL, 4UL, 3UL, 2UL, 1UL, 0UL })]
    [InlineData(1, 2, new[] { 1UL, 0UL })]
    [InlineData(10, 7, new[] { 1023UL, 877UL, 731UL, 585UL, 439UL, 293UL, 147UL })]
    public void Position_ids_fall_by_the_floor_of_2_to_the_m_over_N(int idBits, int positions, ulong[] expected)
    {
        var ring = new RingMath(idBits, positions);

        Assert.Equal(expected, Enumerable.Range(0, positions).Select(ring.PositionId));
    }

    [Theory]
    [InlineData("", 64, 0xDA39_A3EE_5E6B_4B0DUL)]
    [InlineData("abc", 64, 0xA999_3E36_4706_816AUL)]
    [InlineData("abc", 8, 0xA9UL)]
    [InlineData("abc", 1, 1UL)]
    public void A_key_id_is_the_top_m_bits_of_the_first_8_bytes_of_its_SHA1(string key, int idBits, ulong expected)
    {
        Assert.Equal(expected, new RingMath(idBits, 1).KeyId(key));
    }

    [Theory]
    [InlineData("{user1000}.following", "user1000")]
    [InlineData("user:{42}:cart", "42")]
    [InlineData("foo{}{bar}", "foo{}{bar}")]
    [InlineData("foo{{bar}}zap", "{bar")]
    [InlineData("foo{bar}{zap}", "bar")]
    [InlineData("{", "{")]
    [InlineData("no-tag}", "no-tag}")]
    [InlineData("{é}", "é")]
    public void A_tag_is_what_lies_between_the_first_open_brace_and_the_first_close_brace_after_it(string key, string placed)
    {
        Assert.Equal(placed, RingMath.PlacementPart(key));
    }

    [Fact]
    public void With_placement_tags_a_key_is_placed_by_its_tag_and_without_them_by_the_whole_key()
    {
        var tags = new RingMath(64, 16, placementTags: true);
        var wholeKeys = new RingMath(64, 16);

        Assert.Equal(wholeKeys.KeyId("abc"), tags.KeyId("x{abc}y"));
        Assert.Equal(wholeKeys.KeyId("plain"), tags.KeyId("plain"));
        Assert.NotEqual(wholeKeys.KeyId("x{abc}y"), tags.KeyId("x{abc}y"));
        Assert.Single(Enumerable.Range(0, 100).Select(i => tags.OwnerOfKey($"{{order-9}}:{i}")).Distinct());
        Assert.True(Enumerable.Range(0, 100).Select(i => wholeKeys.OwnerOfKey($"{{order-9}}:{i}")).Distinct().Count() > 1);
    }

    [Theory]
    [InlineData(15UL, 0)]
    [InlineData(11UL, 0)]
    [InlineData(10UL, 1)]
    [InlineData(6UL, 1)]
    [InlineData(5UL, 2)]
    [InlineData(0UL, 2)]
    public void A_position_owns_from_after_the_next_id_up_to_its_own(ulong id, int owner)
    {
        Assert.Equal(owner, new RingMath(4, 3).Owner(id));
    }

    [Fact]
    public void Ownership_edges_hold_at_64_bits_with_N_not_a_power_of_two()
    {
        var ring = new RingMath(64, 3);

        for (var position = 0; position < 3; position++)
        {
            var id = ring.PositionId(position);
            Assert.Equal(position, ring.Owner(id));
            if (position < 2)
                Assert.Equal(position + 1, ring.Owner(ring.PositionId(position + 1)));
            Assert.Equal(position, ring.Owner(ring.Range(position).AfterId is { } after ? after + 1 : 0));
        }
        Assert.Equal(2, ring.Owner(0));
        Assert.Equal(0, ring.Owner(ulong.MaxValue));
    }

    [Fact]
    public void Ranges_cover_the_ring_once()
    {
        var ring = new RingMath(10, 7);

        var owned = new int[ring.MaxId + 1];
        for (var position = 0; position < ring.Positions; position++)
        {
            var (after, upTo) = ring.Range(position);
            for (var id = after.HasValue ? after.Value + 1 : 0; id <= upTo; id++)
                owned[id]++;
        }

        Assert.All(owned, count => Assert.Equal(1, count));
        for (ulong id = 0; id <= ring.MaxId; id++)
        {
            var (after, upTo) = ring.Range(ring.Owner(id));
            Assert.True(id <= upTo && (after is null || id > after), $"id {id}");
        }
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(65, 1)]
    [InlineData(2, 5)]
    [InlineData(1, 3)]
    public void Impossible_rings_are_refused(int idBits, int positions)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new RingMath(idBits, positions));
    }

    [Fact]
    public void An_evenly_spaced_ring_is_the_same_given_its_ids()
    {
        var even = new RingMath(10, 7);
        var given = new RingMath(10, RingMath.Even(10, 7));

        for (ulong id = 0; id <= even.MaxId; id++)
            Assert.Equal(even.Owner(id), given.Owner(id));
        Assert.Equal(Enumerable.Range(0, 7), given.RingOrder);
    }

    [Theory]
    [InlineData(15UL, 2)] // past the highest ring id: wraps to the lowest
    [InlineData(13UL, 2)]
    [InlineData(12UL, 0)]
    [InlineData(9UL, 0)]
    [InlineData(8UL, 1)]
    [InlineData(3UL, 1)]
    [InlineData(2UL, 2)]
    [InlineData(0UL, 2)]
    public void With_ids_given_a_position_owns_from_after_the_next_lower_id_up_to_its_own(ulong id, int owner)
    {
        // Position 0 at 12, position 1 at 8 and position 2 at 2: not in number order, and none at the highest id.
        var ring = new RingMath(4, [12UL, 8UL, 2UL]);

        Assert.Equal(owner, ring.Owner(id));
    }

    [Fact]
    public void With_ids_given_the_lowest_position_wraps_past_the_highest_id_and_ranges_still_cover_the_ring_once()
    {
        var ring = new RingMath(4, [8UL, 12UL, 2UL, 5UL]);

        Assert.Equal((12UL, 2UL), ring.Range(2));
        Assert.Equal((8UL, 12UL), ring.Range(1));
        Assert.Equal([1, 0, 3, 2], ring.RingOrder);
        var owned = new int[16];
        for (var position = 0; position < ring.Positions; position++)
        {
            var (after, upTo) = ring.Range(position);
            for (var id = 0UL; id <= ring.MaxId; id++)
            {
                var inside = after is not { } a ? id <= upTo : a < upTo ? id > a && id <= upTo : id > a || id <= upTo;
                if (inside)
                {
                    owned[id]++;
                    Assert.Equal(position, ring.Owner(id));
                }
            }
        }
        Assert.All(owned, count => Assert.Equal(1, count));
    }

    [Fact]
    public void Ids_outside_the_space_or_shared_by_two_positions_are_refused()
    {
        Assert.Contains("past the highest", Assert.Throws<ArgumentOutOfRangeException>(() => new RingMath(4, [16UL, 3UL])).Message);
        Assert.Contains("positions 0 and 2 have the same ring id", Assert.Throws<ArgumentOutOfRangeException>(() => new RingMath(4, [3UL, 9UL, 3UL])).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new RingMath(4, Array.Empty<ulong>()));
    }
}
