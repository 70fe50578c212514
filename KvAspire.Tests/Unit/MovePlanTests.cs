using KvAspire.Node.Storage;
using KvAspire.Routing;

namespace KvAspire.Tests.Unit;

/// <summary>
/// A boundary move's plan: which position gives and which takes, the range that changes hands (exactly the
/// keys whose owner differs between the two layouts), the claims on each side, the moves refused, and what
/// a move sees of another change at its epoch.
/// </summary>
[Trait("Category", "Unit")]
public sealed class MovePlanTests
{
    // Four evenly spaced positions on 16-bit ids: 0xffff, 0xbfff, 0x7fff, 0x3fff.
    private static readonly RingLayout Ring = new(3, 16, RingMath.Even(16, 4), [], false);

    [Theory]
    [InlineData(2, 0x9000, 1, 2)] // up: position 2 takes from its successor, position 1
    [InlineData(2, 0x6000, 2, 1)] // down: position 2 gives to position 1
    [InlineData(0, 0xc000, 0, 3)] // position 0 (the highest id) gives to position 3, the lowest, which owns the wrap-around
    [InlineData(3, 0x0010, 3, 2)] // position 3, the lowest, gives the ids above its new id to position 2
    public void The_moving_range_is_exactly_the_identifiers_whose_owner_changes(int position, int ringId, int giver, int taker)
    {
        var plan = MovePlan.Boundary(Ring, position, (ulong)ringId);

        Assert.Equal((giver, taker, 4L), (plan.Giver, plan.Taker, plan.After.Epoch));
        Assert.Equal((ulong)ringId, plan.After.PositionIds[position]);
        var (before, after) = (Ring.Ring(), plan.After.Ring());
        for (var id = 0UL; id <= 0xffff; id++)
        {
            var changed = before.Owner(id) != after.Owner(id);
            Assert.Equal(changed, Holds(plan.Moving, id));
            if (changed)
                Assert.Equal((giver, taker), (before.Owner(id), after.Owner(id)));
        }
        Assert.Equal(OwnedRange.Of(plan.After, taker), plan.TakerClaim);
        Assert.Equal(OwnedRange.Of(plan.After, giver), plan.GiverClaim);
        Assert.Equal(OwnedRange.Of(Ring, giver) with { Epoch = 4 }, plan.GiverRollback);
    }

    [Theory]
    [InlineData(2, 0xbfff, "must stay between its neighbours'")]
    [InlineData(2, 0x3000, "above position 3's 16383 and below position 1's 49151")]
    [InlineData(2, 0x7fff, "at ring id 32767 already")]
    [InlineData(4, 0x1000, "there is no position 4")]
    [InlineData(1, 0x10000, "past the highest 16-bit identifier")]
    public void A_move_that_would_reorder_the_ring_or_names_nothing_is_refused(int position, int ringId, string why) =>
        Assert.Contains(why, Assert.Throws<ArgumentException>(() => MovePlan.Boundary(Ring, position, (ulong)ringId)).Message);

    [Fact]
    public void A_ring_of_one_position_has_no_boundary() =>
        Assert.Contains("no boundary", Assert.Throws<ArgumentException>(() => MovePlan.Boundary(new RingLayout(1, 16, [0xffff], [], false), 0, 5)).Message);

    [Fact]
    public void An_added_position_takes_the_keys_up_to_its_id_from_their_owner_and_a_removed_one_gives_them_to_its_successor()
    {
        RingMember[] spares = [new("p4r0", 4, "127.0.0.1:1")];
        var add = MovePlan.Add(Ring, 4, spares, null);

        // Every arc is as wide: the first, the one that wraps around from 0xffff to 0x3fff, owned by position 3.
        Assert.Equal(0x1fffUL, add.After.PositionIds[4]);
        Assert.Equal((3, 4, 4L), (add.Giver, add.Taker, add.After.Epoch));
        Assert.Equal(new OwnedRange(4, 16, false, null, 0x1fff), add.Moving);
        Assert.Equal(spares, add.After.Members);
        Assert.Equal(new OwnedRange(4, 16, false, 0x1fff, 0x3fff), add.GiverClaim);
        Assert.True(add.GiverRollback.Holds(Enumerable.Range(0, 1000).Select(i => $"k{i}").First(add.Moving.Holds)));
        Assert.True(OwnedRange.None(4, 16, false).IsEmpty);

        var remove = MovePlan.Remove(add.After, 4);

        Assert.Equal((4, 3, 5L), (remove.Giver, remove.Taker, remove.After.Epoch));
        Assert.Equal(Ring.PositionIds, remove.After.PositionIds);
        Assert.Empty(remove.After.Members);
        Assert.True(remove.GiverClaim.IsEmpty);
        Assert.Equal(OwnedRange.Of(Ring, 3) with { Epoch = 5 }, remove.TakerClaim);
        Assert.Equal(add.Moving with { Epoch = 5 }, remove.Moving);
    }

    [Fact]
    public void A_plan_reads_back_from_its_bytes_and_damaged_bytes_are_no_plan()
    {
        var add = MovePlan.Add(Ring, 4, [new("p4r0", 4, "127.0.0.1:1")], null);

        var read = MovePlan.Decode(add.Encode());

        Assert.True(read.IsSameMove(add));
        Assert.Equal(add.After.PositionIds, read.After.PositionIds);
        Assert.Equal(add.After.Members, read.After.Members);
        Assert.False(read.IsSameMove(MovePlan.Remove(add.After, 4)));
        Assert.Throws<FormatException>(() => MovePlan.Decode([0x0a, 0xff]));
        var elsewhere = add.ToMessage();
        elsewhere.Taker = 9;
        Assert.Throws<FormatException>(() => MovePlan.FromMessage(elsewhere));
        var fence = LogRecordFormat.DecodePayload(LogRecordFormat.EncodeFence(add.GiverClaim, add).Span);
        Assert.Equal(add.GiverClaim, fence?.Claim);
        Assert.True(fence?.Fence?.IsSameMove(add));
    }

    [Fact]
    public void Additions_and_removals_that_name_the_wrong_position_are_refused()
    {
        Assert.Contains("the next position to add is 4", Assert.Throws<ArgumentException>(() => MovePlan.Add(Ring, 5, [new("x", 5, "h:1")], null)).Message);
        Assert.Contains("no nodes in the topology", Assert.Throws<ArgumentException>(() => MovePlan.Add(Ring, 4, [], null)).Message);
        Assert.Contains("is position 1's", Assert.Throws<ArgumentException>(() => MovePlan.Add(Ring, 4, [new("x", 4, "h:1")], 0xbfff)).Message);
        Assert.Contains("only the newest position, 3,", Assert.Throws<ArgumentException>(() => MovePlan.Remove(Ring, 1)).Message);
    }

    [Fact]
    public void The_widest_arc_may_be_the_one_that_wraps_around()
    {
        var ring = new RingMath(16, [0x2000, 0x3000]);
        Assert.Equal(0xa800UL, MovePlan.MiddleOfWidestArc(ring)); // (0x3000, 0x2000] wrapping: 0xf000 wide
    }

    /// <summary>Whether a range holds an identifier (<see cref="OwnedRange.Holds"/> takes keys).</summary>
    private static bool Holds(OwnedRange range, ulong id) => range.AfterId switch
    {
        null => id <= range.UpToId,
        { } after when after < range.UpToId => id > after && id <= range.UpToId,
        { } after when after == range.UpToId => false,
        { } after => id > after || id <= range.UpToId,
    };

    [Fact]
    public void After_its_fence_a_move_gives_up_for_a_lower_giver_or_a_change_past_its_check_waits_for_a_higher_giver_and_ignores_a_roll_back()
    {
        var first = MovePlan.Boundary(Ring, 0, 0xc000); // position 0 gives to position 3
        var second = MovePlan.Boundary(Ring, 2, 0x9000); // position 1 gives to position 2: the two share no position

        Assert.Equal((0, 3, 1, 2), (first.Giver, first.Taker, second.Giver, second.Taker));
        // Both fenced: the lower giver waits for the higher, which gives up for it.
        Assert.True(first.OtherChangeAt(1, second.GiverClaim, second)!.Waits);
        Assert.Equal(new OtherChange($"position 0 gives {first.Moving} in the move to epoch 4", Waits: false), second.OtherChangeAt(0, first.GiverClaim, first));
        // A change past its check (its taker claimed, or its giver released) is given up for; a roll-back is none.
        Assert.Equal(new OtherChange($"position 2 claims {second.TakerClaim}", Waits: false), first.OtherChangeAt(2, second.TakerClaim, null));
        Assert.False(first.OtherChangeAt(1, second.GiverClaim, null)!.Waits);
        Assert.Null(first.OtherChangeAt(1, second.GiverRollback, null));
        Assert.Null(first.OtherChangeAt(1, OwnedRange.Of(Ring, 1), null));
        // Its own positions are no other change.
        Assert.Null(first.OtherChangeAt(0, first.GiverClaim, first));
        Assert.Null(first.OtherChangeAt(3, first.TakerClaim, null));
    }
}
