using Google.Protobuf;
using KvAspire.Routing;
using KvAspire.V1;

namespace KvAspire.Node.Storage;

/// <summary>
/// A change of the ring, computed from the layout it starts from, as one move of a range from a giver to a
/// taker (docs/architecture.md, "Moving a range"): the layout after it (one epoch on), which position gives
/// and which takes, and <see cref="Moving"/>, the identifiers that change hands, at the new epoch.
/// <list type="bullet">
/// <item><see cref="Boundary"/>: one position's ring id moves between its neighbours' ids; the keys between its old id and the new change hands with its successor (the position owning the ids just past it).</item>
/// <item><see cref="Add"/>: a spare position joins at a ring id and takes the keys up to it from their owner.</item>
/// <item><see cref="Remove"/>: the newest position gives all its keys to its successor and leaves the ring.</item>
/// </list>
/// The giver's fence carries the plan into its group's log (<see cref="KvMap.Move"/>): whichever replica
/// leads the giver drives the move to its end from there.
/// </summary>
public sealed record MovePlan(RingLayout Before, RingLayout After, int Giver, int Taker, OwnedRange Moving)
{
    /// <summary>What the giver keeps: its fence, from which it serves nothing of <see cref="Moving"/> (nothing at all when it leaves the ring).</summary>
    public OwnedRange GiverClaim => ClaimIn(After, Giver, After.Epoch);

    /// <summary>What the taker owns once it has the copy.</summary>
    public OwnedRange TakerClaim => OwnedRange.Of(After, Taker);

    /// <summary>The giver's range as it was, at the move's epoch (so that it replaces the fence): a move given up.</summary>
    public OwnedRange GiverRollback => ClaimIn(Before, Giver, After.Epoch);

    /// <summary>
    /// What <paramref name="position"/>'s claim and move, read after this move's fence, show of another change
    /// of the ring at this move's epoch or later (null: none): a move it gives in, or a claim that is not its
    /// range before (a taker's, or a giver's past its fence; a giver's roll-back is its range before). Two
    /// changes asked at the same moment may both pass the check before their fences, but each reads the
    /// other positions after its own, so at least one sees the other: the one seen fenced by a lower giver
    /// gives its move up; one that sees only higher givers fenced waits (<see cref="OtherChange.Waits"/>)
    /// until each has given up (then it goes on) or gone past its own check (then it gives up). So exactly
    /// one of two such changes goes on, and no giver ever waits for a lower one.
    /// </summary>
    public OtherChange? OtherChangeAt(int position, OwnedRange? claim, MovePlan? move) =>
        position == Giver || position == Taker ? null
        : move is { } other && other.After.Epoch >= After.Epoch
            ? new OtherChange($"position {position} gives {other.Moving} in the move to epoch {other.After.Epoch}", Waits: other.Giver > Giver)
        : claim is { } held && held.Epoch >= After.Epoch && held != ClaimIn(Before, position, held.Epoch)
            ? new OtherChange($"position {position} claims {held}", Waits: false)
        : null;

    /// <summary>The same change of the ring: one epoch, one range, between the same positions (layouts are compared by these).</summary>
    public bool IsSameMove(MovePlan other) => After.Epoch == other.After.Epoch && Giver == other.Giver && Taker == other.Taker && Moving == other.Moving;

    public RingMove ToMessage() => new() { Before = Before.ToMessage(), After = After.ToMessage(), Giver = Giver, Taker = Taker, Moving = Moving.ToMessage() };

    /// <exception cref="FormatException">Not a move: a layout or the range missing or impossible, or positions the layouts do not have.</exception>
    public static MovePlan FromMessage(RingMove message)
    {
        if (message.Before is null || message.After is null || message.Moving is null)
            throw new FormatException("a move names the layouts before and after it and the range moving");
        var (before, after) = (RingLayout.FromMessage(message.Before), RingLayout.FromMessage(message.After));
        var positions = Math.Max(before.Positions, after.Positions);
        if (after.Epoch != before.Epoch + 1 || message.Giver < 0 || message.Giver >= positions || message.Taker < 0 || message.Taker >= positions)
            throw new FormatException($"a move from epoch {before.Epoch} to {after.Epoch}, position {message.Giver} to {message.Taker}, is not one change of the ring");
        return new MovePlan(before, after, message.Giver, message.Taker, OwnedRange.FromMessage(message.Moving));
    }

    /// <summary>The plan as the log and snapshots keep it (<see cref="ToMessage"/>'s bytes).</summary>
    public byte[] Encode() => ToMessage().ToByteArray();

    /// <exception cref="FormatException">Not a move (<see cref="FromMessage"/>), or not its bytes.</exception>
    public static MovePlan Decode(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return FromMessage(RingMove.Parser.ParseFrom(bytes));
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new FormatException($"not a move: {e.Message}", e);
        }
    }

    /// <summary>What the plan does, for logs and progress.</summary>
    public string Describe() => (Before.Positions - After.Positions) switch
    {
        < 0 => $"position {Taker} joins at ring id 0x{After.PositionIds[Taker]:x}, taking {Moving} from position {Giver}",
        > 0 => $"position {Giver} leaves, giving {Moving} to position {Taker}",
        _ => $"position {Giver} gives {Moving} to position {Taker}",
    };

    /// <exception cref="ArgumentException">No such move: the message says why.</exception>
    public static MovePlan Boundary(RingLayout before, int position, ulong ringId)
    {
        if (position < 0 || position >= before.Positions)
            throw new ArgumentException($"there is no position {position}: the ring's are 0 to {before.Positions - 1}");
        if (before.Positions == 1)
            throw new ArgumentException("a ring of one position has no boundary to move");
        var ring = before.Ring();
        CheckInSpace(ring, ringId);
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

    /// <summary>
    /// Position <paramref name="position"/>, served by <paramref name="members"/> (its spares), joins at
    /// <paramref name="ringId"/>, by default the middle of the widest arc: it takes the keys from the next
    /// lower ring id up to its own from their owner.
    /// </summary>
    /// <exception cref="ArgumentException">No such move: the message says why.</exception>
    public static MovePlan Add(RingLayout before, int position, IReadOnlyList<RingMember> members, ulong? ringId)
    {
        if (position != before.Positions)
            throw new ArgumentException($"the next position to add is {before.Positions} (the ring's are 0 to {before.Positions - 1}), not {position}");
        if (members.Count == 0)
            throw new ArgumentException($"position {position} has no nodes in the topology: name its spares there (\"Spare\": true)");
        var ring = before.Ring();
        var id = ringId ?? MiddleOfWidestArc(ring);
        CheckInSpace(ring, id);
        if (Array.IndexOf([.. before.PositionIds], id) is var taken and >= 0)
            throw new ArgumentException($"ring id {id} is position {taken}'s");
        var after = before with { Epoch = before.Epoch + 1, PositionIds = [.. before.PositionIds, id], Members = [.. before.Members, .. members] };
        return new MovePlan(before, after, ring.Owner(id), position, OwnedRange.Of(after, position));
    }

    /// <summary>Position <paramref name="position"/>, the newest, gives all its keys to its successor and leaves the ring.</summary>
    /// <exception cref="ArgumentException">No such move: the message says why.</exception>
    public static MovePlan Remove(RingLayout before, int position)
    {
        if (before.Positions == 1)
            throw new ArgumentException("the ring's one position cannot leave it");
        if (position != before.Positions - 1)
            throw new ArgumentException($"only the newest position, {before.Positions - 1}, can leave the ring (positions are numbered without gaps), not {position}");
        var after = before with
        {
            Epoch = before.Epoch + 1,
            PositionIds = [.. before.PositionIds.Take(position)],
            Members = [.. before.Members.Where(m => m.Position != position)],
        };
        var taker = after.Ring().Owner(before.PositionIds[position]);
        return new MovePlan(before, after, position, taker, OwnedRange.Of(before, position) with { Epoch = after.Epoch });
    }

    /// <summary>The middle of the widest arc between two neighbouring ring ids (the wrap-around arc included).</summary>
    public static ulong MiddleOfWidestArc(RingMath ring)
    {
        var ids = ring.PositionIds.Order().ToArray();
        var space = (UInt128)ring.MaxId + 1;
        var (start, width) = ((UInt128)ids[^1], space - ids[^1] + ids[0]);
        for (var i = 1; i < ids.Length; i++)
        {
            if (ids[i] - ids[i - 1] > width)
                (start, width) = (ids[i - 1], ids[i] - ids[i - 1]);
        }
        return (ulong)((start + width / 2) % space);
    }

    private static OwnedRange ClaimIn(RingLayout layout, int position, long epoch) =>
        position < layout.Positions
            ? OwnedRange.Of(layout, position) with { Epoch = epoch }
            : OwnedRange.None(epoch, layout.IdBits, layout.PlacementTags);

    private static void CheckInSpace(RingMath ring, ulong ringId)
    {
        if (ringId > ring.MaxId)
            throw new ArgumentException($"ring id {ringId} is past the highest {ring.IdBits}-bit identifier, {ring.MaxId}");
    }
}

/// <summary>Another change of the ring at a move's epoch, as <see cref="MovePlan.OtherChangeAt"/> sees it: what, and whether to wait for it to end rather than give up.</summary>
public sealed record OtherChange(string What, bool Waits);
