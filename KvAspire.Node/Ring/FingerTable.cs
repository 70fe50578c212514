using KvAspire.Routing;

namespace KvAspire.Node.Ring;

/// <summary>
/// Routing from one position (shortest way round, either direction), pure. Positions are counted in ring
/// order (by ring id, highest first: on an evenly spaced ring, by number). Its fingers are the positions at
/// ±2^k steps in that order (with evenly spaced positions that is ±2^k·⌊2^m/N⌋ in identifiers), so the next
/// and the previous position are always among them. A request goes to the finger that leaves the shortest
/// remaining distance to the owner, either way around the ring.
/// </summary>
public sealed class FingerTable
{
    private readonly RingMath _ring;

    private FingerTable(int position, RingMath ring, IReadOnlyList<int> fingers) => (Position, _ring, Fingers) = (position, ring, fingers);

    /// <summary>
    /// The table of a node whose position is not in the ring (a spare, or a position removed): every position
    /// is a finger, so it sends each request straight to its owner.
    /// </summary>
    public static FingerTable Outside(int position, RingMath ring) => new(position, ring, [.. Enumerable.Range(0, ring.Positions)]);

    public FingerTable(int position, RingMath ring)
    {
        if ((uint)position >= (uint)ring.Positions)
            throw new ArgumentOutOfRangeException(nameof(position), position, $"positions are 0..{ring.Positions - 1}");
        (Position, _ring) = (position, ring);
        var (at, count, order) = (ring.PlaceInOrder(position), ring.Positions, ring.RingOrder);
        var fingers = new SortedSet<int>();
        for (long distance = 1; distance < count; distance *= 2)
        {
            fingers.Add(order[(int)((at + distance) % count)]);
            fingers.Add(order[(int)(((at - distance) % count + count) % count)]);
        }
        Fingers = [.. fingers];
    }

    public int Position { get; }

    /// <summary>The distinct positions this one can forward to, ascending.</summary>
    public IReadOnlyList<int> Fingers { get; }

    /// <summary>Steps between two positions of a ring of <paramref name="positions"/> the shorter way around, counted in ring order.</summary>
    public static int Distance(int from, int to, int positions)
    {
        var forward = ((to - from) % positions + positions) % positions;
        return Math.Min(forward, positions - forward);
    }

    /// <summary>The finger to forward to for <paramref name="owner"/> (never called for this position's own keys).</summary>
    public int NextHop(int owner)
    {
        if (owner == Position)
            throw new ArgumentException("this position owns the key; nothing to forward", nameof(owner));
        var (target, count) = (_ring.PlaceInOrder(owner), _ring.Positions);
        var best = Fingers[0];
        foreach (var finger in Fingers)
        {
            if (Distance(_ring.PlaceInOrder(finger), target, count) < Distance(_ring.PlaceInOrder(best), target, count))
                best = finger;
        }
        return best;
    }
}
