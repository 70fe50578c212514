using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace KvAspire.Routing;

/// <summary>
/// The identifier ring of SPEC §3, pure: m-bit identifiers (1 ≤ m ≤ 64), N evenly spaced positions.
/// Position i has ring id (2^m − 1) − i·⌊2^m / N⌋, so position 0 has the highest id and ids fall as i
/// grows. The owner of identifier k is the position with the smallest ring id ≥ k: position i owns
/// (id(i+1), id(i)], and the last position also owns everything from 0 up to its id (the wrap-around
/// range). 2^m is computed in 128 bits, where m = 64 would overflow. With placement tags, a key's
/// identifier is that of its <c>{tag}</c> (<see cref="PlacementPart"/>), so keys that share a tag share a
/// position.
/// </summary>
public sealed class RingMath
{
    private readonly UInt128 _step;

    public RingMath(int idBits, int positions, bool placementTags = false)
    {
        if (idBits is < 1 or > 64)
            throw new ArgumentOutOfRangeException(nameof(idBits), idBits, "identifiers have 1 to 64 bits");
        var space = UInt128.One << idBits;
        if (positions < 1 || (UInt128)(uint)positions > space)
            throw new ArgumentOutOfRangeException(nameof(positions), positions, $"1 to 2^{idBits} positions fit the ring");
        IdBits = idBits;
        Positions = positions;
        PlacementTags = placementTags;
        MaxId = (ulong)(space - 1);
        _step = space / (uint)positions;
    }

    public int IdBits { get; }

    /// <summary>Whether a key is placed by its <c>{tag}</c> when it has one, rather than by the whole key.</summary>
    public bool PlacementTags { get; }

    /// <summary>N, the number of positions.</summary>
    public int Positions { get; }

    /// <summary>2^m − 1, the highest identifier and the ring id of position 0.</summary>
    public ulong MaxId { get; }

    public ulong PositionId(int position)
    {
        if ((uint)position >= (uint)Positions)
            throw new ArgumentOutOfRangeException(nameof(position), position, $"positions are 0..{Positions - 1}");
        return MaxId - (ulong)((uint)position * _step);
    }

    /// <summary>
    /// (first 8 bytes of SHA-1(UTF-8 placed part), big-endian) &gt;&gt; (64 − m), where the placed part is the
    /// whole key, or its tag with placement tags.
    /// </summary>
    public ulong KeyId(string key)
    {
        Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
        var utf8 = Encoding.UTF8.GetBytes(PlacementTags ? PlacementPart(key) : key);
        SHA1.HashData(utf8, hash);
        return BinaryPrimitives.ReadUInt64BigEndian(hash) >> (64 - IdBits);
    }

    /// <summary>
    /// The part of <paramref name="key"/> a ring with placement tags hashes, as Redis Cluster does: between
    /// the first <c>{</c> and the first <c>}</c> after it, when that is not empty; otherwise the whole key.
    /// <c>user:{42}:cart</c> and <c>{42}:orders</c> are both placed by <c>42</c>; <c>a{}b</c> by itself.
    /// </summary>
    public static string PlacementPart(string key)
    {
        var open = key.IndexOf('{', StringComparison.Ordinal);
        if (open < 0)
            return key;
        var close = key.IndexOf('}', open + 1);
        return close > open + 1 ? key[(open + 1)..close] : key;
    }

    /// <summary>The position with the smallest ring id ≥ <paramref name="id"/>.</summary>
    public int Owner(ulong id)
    {
        if (id > MaxId)
            throw new ArgumentOutOfRangeException(nameof(id), id, $"identifiers are 0..{MaxId}");
        var position = (UInt128)(MaxId - id) / _step;
        return (int)UInt128.Min(position, (UInt128)(uint)(Positions - 1));
    }

    public int OwnerOfKey(string key) => Owner(KeyId(key));

    /// <summary>The identifiers <paramref name="position"/> owns, as (exclusive, inclusive]; the wrap-around range has no lower bound.</summary>
    public (ulong? AfterId, ulong UpToId) Range(int position) =>
        (position == Positions - 1 ? null : PositionId(position + 1), PositionId(position));
}
