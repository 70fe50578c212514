using KvAspire.Routing;

namespace KvAspire.Node.Storage;

/// <summary>
/// The identifiers a position's group owns, as committed in its own log (its claim): from
/// <see cref="Epoch"/> of the ring's layout on, the keys whose identifiers lie after <see cref="AfterId"/>
/// up to <see cref="UpToId"/> (as <see cref="RingMath.Range"/> gives them: no AfterId, from 0; an AfterId
/// not below UpToId, wrapping past the highest identifier). Its map serves no other key, whatever layout
/// a node routes with: a node held on an old layout cannot answer for a key its group gave away.
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
            { } after => id > after || id <= UpToId,
        };
    }

    public override string ToString() =>
        $"{(AfterId is { } after ? $"(0x{after:x}" : "[0")}, 0x{UpToId:x}]{(AfterId >= UpToId ? " wrapping" : "")} at epoch {Epoch}";
}

/// <summary>
/// The range a group claims when it has no claim yet (a new group, or one whose data predates claims): its
/// position's range in the layout the node started with (the topology's, a restored backup's, or one laid
/// in its data directory). Later claims come from the moves that change the ring, not from here.
/// </summary>
public sealed record StartingClaim(OwnedRange Range);
