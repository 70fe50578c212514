using KvAspire.Node.Storage;
using KvAspire.Routing;

namespace KvAspire.Node.Ring;

/// <summary>
/// A boundary move, computed from the layout it starts from: one position's ring id moves, within its
/// neighbours' ids, so the keys between its old id and the new change hands between it and its successor
/// (the position owning the ids just past it). Moving up, the position takes from its successor; moving
/// down, it gives to it. <see cref="Moving"/> is that range, at the new layout's epoch.
/// </summary>
public sealed record MovePlan(RingLayout Before, RingLayout After, int Giver, int Taker, OwnedRange Moving)
{
    /// <exception cref="ArgumentException">No such move: the message says why.</exception>
    public static MovePlan Boundary(RingLayout before, int position, ulong ringId)
    {
        if (position < 0 || position >= before.Positions)
            throw new ArgumentException($"there is no position {position}: the ring's are 0 to {before.Positions - 1}");
        if (before.Positions == 1)
            throw new ArgumentException("a ring of one position has no boundary to move");
        var ring = before.Ring();
        if (ringId > ring.MaxId)
            throw new ArgumentException($"ring id {ringId} is past the highest {before.IdBits}-bit identifier, {ring.MaxId}");
        var old = before.PositionIds[position];
        if (ringId == old)
            throw new ArgumentException($"position {position} is at ring id {old} already");
        var order = ring.RingOrder;
        var place = ring.PlaceInOrder(position);
        var successor = order[(place + order.Count - 1) % order.Count];
        var predecessor = order[(place + 1) % order.Count];
        ulong[] ids = [.. before.PositionIds];
        ids[position] = ringId;
        var after = before with { Epoch = before.Epoch + 1, PositionIds = ids };
        var between = $"position {position}'s ring id must stay between its neighbours': above position {predecessor}'s " +
                      $"{before.PositionIds[predecessor]} and below position {successor}'s {before.PositionIds[successor]}";
        try
        {
            if (!after.Ring().RingOrder.SequenceEqual(order))
                throw new ArgumentException(between);
        }
        catch (ArgumentOutOfRangeException)
        {
            throw new ArgumentException(between);
        }
        var (giver, taker) = ringId > old ? (successor, position) : (position, successor);
        return new MovePlan(before, after, giver, taker, new OwnedRange(after.Epoch, before.IdBits, before.PlacementTags, Math.Min(old, ringId), Math.Max(old, ringId)));
    }

    /// <summary>What the giver keeps: its fence, from which it serves nothing of <see cref="Moving"/>.</summary>
    public OwnedRange GiverClaim => OwnedRange.Of(After, Giver);

    /// <summary>What the taker owns once it has the copy.</summary>
    public OwnedRange TakerClaim => OwnedRange.Of(After, Taker);

    /// <summary>The giver's range as it was, at the move's epoch (so that it replaces the fence): a move given up.</summary>
    public OwnedRange GiverRollback => OwnedRange.Of(Before, Giver) with { Epoch = After.Epoch };
}
