using KvAspire.Routing;
using KvAspire.V1;

namespace KvAspire.Node.Storage;

/// <summary>
/// The identifiers a position's group owns, as committed in its own log (its claim): from
/// <see cref="Epoch"/> of the ring's layout on, the keys whose identifiers lie after <see cref="AfterId"/>
/// up to <see cref="UpToId"/> (as <see cref="RingMath.Range"/> gives them: no AfterId, from 0; an AfterId
/// above UpToId, wrapping past the highest identifier; an AfterId equal to it, none: a position not in the
/// ring yet). Its map serves no other key, whatever layout a node routes with: a node held on an old layout
/// cannot answer for a key its group gave away.
/// </summary>
public sealed record OwnedRange(long Epoch, int IdBits, bool PlacementTags, ulong? AfterId, ulong UpToId)
{
    /// <summary>Position <paramref name="position"/>'s range in <paramref name="layout"/>.</summary>
    public static OwnedRange Of(RingLayout layout, int position)
    {
        var (after, upTo) = layout.Ring().Range(position);
        return new OwnedRange(layout.Epoch, layout.IdBits, layout.PlacementTags, after, upTo);
    }

    public bool Holds(string key)
    {
        var id = RingMath.KeyId(key, IdBits, PlacementTags);
        return AfterId switch
        {
            null => id <= UpToId,
            { } after when after < UpToId => id > after && id <= UpToId,
            { } after when after == UpToId => false,
            { } after => id > after || id <= UpToId,
        };
    }

    /// <summary>No identifier at all, from <paramref name="epoch"/>: the claim of a position the ring does not have yet.</summary>
    public static OwnedRange None(long epoch, int idBits, bool placementTags) => new(epoch, idBits, placementTags, 0, 0);

    public bool IsEmpty => AfterId == UpToId;

    /// <summary>The claim as a move's calls between nodes carry it.</summary>
    public RangeClaim ToMessage() => new()
    {
        Epoch = Epoch,
        IdBits = IdBits,
        PlacementTags = PlacementTags,
        HasAfter = AfterId.HasValue,
        AfterId = AfterId ?? 0,
        UpToId = UpToId,
    };

    /// <exception cref="FormatException">Not a range: no identifier space, or no epoch.</exception>
    public static OwnedRange FromMessage(RangeClaim message) =>
        message.Epoch >= 1 && message.IdBits is >= 1 and <= 64
            ? new OwnedRange(message.Epoch, message.IdBits, message.PlacementTags, message.HasAfter ? message.AfterId : null, message.UpToId)
            : throw new FormatException($"a claim of epoch {message.Epoch} over {message.IdBits}-bit identifiers is not a range");

    public override string ToString() => IsEmpty ? $"no key at epoch {Epoch}" :
        $"{(AfterId is { } after ? $"(0x{after:x}" : "[0")}, 0x{UpToId:x}]{(AfterId >= UpToId ? " wrapping" : "")} at epoch {Epoch}";
}

/// <summary>
/// The range a group claims when it has no claim yet (a new group, or one whose data predates claims): its
/// position's range in the layout the node started with (the topology's, a restored backup's, or one laid
/// in its data directory), or none for a spare's group, whose position that layout does not have. Later
/// claims come from the moves that change the ring, not from here.
/// </summary>
public sealed record StartingClaim(OwnedRange Range)
{
    public static StartingClaim In(RingLayout layout, int position) =>
        new(position < layout.Positions ? OwnedRange.Of(layout, position) : OwnedRange.None(layout.Epoch, layout.IdBits, layout.PlacementTags));
}
