using KvAspire.Node.Storage;
using KvAspire.V1;

namespace KvAspire.Node.Peers;

/// <summary>A claim (<see cref="OwnedRange"/>) as a move's calls between nodes carry it.</summary>
public static class RangeClaimMessages
{
    public static RangeClaim ToMessage(OwnedRange range) => new()
    {
        Epoch = range.Epoch,
        IdBits = range.IdBits,
        PlacementTags = range.PlacementTags,
        HasAfter = range.AfterId.HasValue,
        AfterId = range.AfterId ?? 0,
        UpToId = range.UpToId,
    };

    /// <exception cref="FormatException">Not a range: no identifier space, or no epoch.</exception>
    public static OwnedRange FromMessage(RangeClaim message) =>
        message.Epoch >= 1 && message.IdBits is >= 1 and <= 64
            ? new OwnedRange(message.Epoch, message.IdBits, message.PlacementTags, message.HasAfter ? message.AfterId : null, message.UpToId)
            : throw new FormatException($"a claim of epoch {message.Epoch} over {message.IdBits}-bit identifiers is not a range");
}
