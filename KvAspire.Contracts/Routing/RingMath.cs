using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace KvAspire.Routing;

/// <summary>
/// The identifier ring of SPEC §3, pure: m-bit identifiers (1 ≤ m ≤ 64) and a ring id for each position.
/// A ring that starts from a topology has N evenly spaced positions (<see cref="Even"/>): position i at
/// (2^m − 1) − i·⌊2^m / N⌋, so position 0 has the highest id and ids fall as i grows; a ring that has grown
/// or shrunk online places its positions where its layout says (<see cref="RingLayout"/>). The owner of
/// identifier k is the position with the smallest ring id ≥ k, or, past the highest ring id, the position
/// with the lowest (the wrap-around range). 2^m is computed in 128 bits, where m = 64 would overflow.
/// With placement tags, a key's identifier is that of its <c>{tag}</c> (<see cref="PlacementPart"/>), so
/// keys that share a tag share a position.
/// </summary>
public sealed class RingMath
{
    private readonly ulong[] _ids;
    // Ring ids ascending, with the position of each: the owner of an identifier is found by binary search.
    private readonly ulong[] _ascendingIds;
    private readonly int[] _ascendingPositions;
    // Positions in ring order (highest ring id first), and each position's place in it.
    private readonly int[] _ringOrder;
    private readonly int[] _placeInOrder;

    /// <summary>A ring whose position <c>i</c> has ring id <c>positionIds[i]</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside the identifier space, two positions share one, or there is none.</exception>
    public RingMath(int idBits, IReadOnlyList<ulong> positionIds, bool placementTags = false)
    {
        if (idBits is < 1 or > 64)
            throw new ArgumentOutOfRangeException(nameof(idBits), idBits, "identifiers have 1 to 64 bits");
        MaxId = (ulong)((UInt128.One << idBits) - 1);
        if (positionIds.Count == 0)
            throw new ArgumentOutOfRangeException(nameof(positionIds), 0, "a ring has at least one position");
        for (var position = 0; position < positionIds.Count; position++)
        {
            if (positionIds[position] > MaxId)
                throw new ArgumentOutOfRangeException(nameof(positionIds), positionIds[position],
                    $"position {position}'s ring id is past the highest {idBits}-bit identifier, {MaxId}");
        }
        IdBits = idBits;
        PlacementTags = placementTags;
        _ids = [.. positionIds];
        _ascendingPositions = [.. Enumerable.Range(0, _ids.Length).OrderBy(p => _ids[p])];
        _ascendingIds = [.. _ascendingPositions.Select(p => _ids[p])];
        _ringOrder = [.. _ascendingPositions.Reverse()];
        _placeInOrder = new int[_ringOrder.Length];
        for (var place = 0; place < _ringOrder.Length; place++)
            _placeInOrder[_ringOrder[place]] = place;
        for (var i = 1; i < _ascendingIds.Length; i++)
        {
            if (_ascendingIds[i] == _ascendingIds[i - 1])
                throw new ArgumentOutOfRangeException(nameof(positionIds), _ascendingIds[i],
                    $"positions {_ascendingPositions[i - 1]} and {_ascendingPositions[i]} have the same ring id");
        }
    }

    /// <summary>N evenly spaced positions, as a ring starts.</summary>
    public RingMath(int idBits, int positions, bool placementTags = false)
        : this(idBits, Even(idBits, positions), placementTags)
    {
    }

    /// <summary>The ring ids of N evenly spaced positions: (2^m − 1) − i·⌊2^m / N⌋ for position i.</summary>
    /// <exception cref="ArgumentOutOfRangeException">No such ring: m outside 1..64, or N outside 1..2^m.</exception>
    public static ulong[] Even(int idBits, int positions)
    {
        if (idBits is < 1 or > 64)
            throw new ArgumentOutOfRangeException(nameof(idBits), idBits, "identifiers have 1 to 64 bits");
        var space = UInt128.One << idBits;
        if (positions < 1 || (UInt128)(uint)positions > space)
            throw new ArgumentOutOfRangeException(nameof(positions), positions, $"1 to 2^{idBits} positions fit the ring");
        var step = space / (uint)positions;
        var maxId = (ulong)(space - 1);
        return [.. Enumerable.Range(0, positions).Select(i => maxId - (ulong)((uint)i * step))];
    }

    public int IdBits { get; }

    /// <summary>Whether a key is placed by its <c>{tag}</c> when it has one, rather than by the whole key.</summary>
    public bool PlacementTags { get; }

    /// <summary>N, the number of positions.</summary>
    public int Positions => _ids.Length;

    /// <summary>2^m − 1, the highest identifier (the ring id of position 0 on an evenly spaced ring).</summary>
    public ulong MaxId { get; }

    /// <summary>The ring id of each position, by position.</summary>
    public IReadOnlyList<ulong> PositionIds => _ids;

    /// <summary>
    /// The positions in ring order, highest ring id first (on an evenly spaced ring, by number): each
    /// one's successor (the owner of the ids past it) comes before it.
    /// </summary>
    public IReadOnlyList<int> RingOrder => _ringOrder;

    /// <summary>Where <paramref name="position"/> stands in <see cref="RingOrder"/>.</summary>
    public int PlaceInOrder(int position) => _placeInOrder[position];

    public ulong PositionId(int position)
    {
        if ((uint)position >= (uint)Positions)
            throw new ArgumentOutOfRangeException(nameof(position), position, $"positions are 0..{Positions - 1}");
        return _ids[position];
    }

    /// <summary>
    /// (first 8 bytes of SHA-1(UTF-8 placed part), big-endian) &gt;&gt; (64 − m), where the placed part is the
    /// whole key, or its tag with placement tags.
    /// </summary>
    public ulong KeyId(string key) => KeyId(key, IdBits, PlacementTags);

    /// <summary><see cref="KeyId(string)"/> on a ring of <paramref name="idBits"/>-bit identifiers, with or without placement tags.</summary>
    public static ulong KeyId(string key, int idBits, bool placementTags)
    {
        Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
        var utf8 = Encoding.UTF8.GetBytes(placementTags ? PlacementPart(key) : key);
        SHA1.HashData(utf8, hash);
        return BinaryPrimitives.ReadUInt64BigEndian(hash) >> (64 - idBits);
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

    /// <summary>The position with the smallest ring id ≥ <paramref name="id"/>; past the highest, the one with the lowest.</summary>
    public int Owner(ulong id)
    {
        if (id > MaxId)
            throw new ArgumentOutOfRangeException(nameof(id), id, $"identifiers are 0..{MaxId}");
        var at = Array.BinarySearch(_ascendingIds, id);
        if (at < 0)
            at = ~at;
        return _ascendingPositions[at == _ascendingIds.Length ? 0 : at];
    }

    public int OwnerOfKey(string key) => Owner(KeyId(key));

    /// <summary>
    /// The identifiers <paramref name="position"/> owns, as (exclusive, inclusive]: after the next lower ring
    /// id, up to its own. The position with the lowest ring id also owns what lies past the highest: its
    /// AfterId is the highest ring id, above its UpToId (the range wraps past the highest identifier to 0),
    /// or null when the highest ring id is the highest identifier (the range starts at 0). A ring of one
    /// position owns it all: from 0 up to the highest identifier, wherever its ring id is.
    /// </summary>
    public (ulong? AfterId, ulong UpToId) Range(int position)
    {
        if (_ids.Length == 1)
            return (null, MaxId);
        var upTo = PositionId(position);
        var at = Array.BinarySearch(_ascendingIds, upTo);
        if (at > 0)
            return (_ascendingIds[at - 1], upTo);
        var highest = _ascendingIds[^1];
        return (highest == MaxId ? null : highest, upTo);
    }
}
