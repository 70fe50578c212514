namespace KvAspire.Node.Ring;

/// <summary>
/// Routing from one position (shortest way round, either direction), pure. Its fingers are the positions at ring distances ±2^k
/// (counted in positions; with evenly spaced positions that is ±2^k·⌊2^m/N⌋ in identifiers), so the next
/// and the previous position are always among them. A request goes to the finger that leaves the
/// shortest remaining distance to the owner, either way around the ring.
/// </summary>
public sealed class FingerTable
{
    public FingerTable(int position, int positions)
    {
        if ((uint)position >= (uint)positions)
            throw new ArgumentOutOfRangeException(nameof(position), position, $"positions are 0..{positions - 1}");
        Position = position;
        Positions = positions;
        var fingers = new SortedSet<int>();
        for (long distance = 1; distance < positions; distance *= 2)
        {
            fingers.Add((int)((position + distance) % positions));
            fingers.Add((int)(((position - distance) % positions + positions) % positions));
        }
        Fingers = [.. fingers];
    }

    public int Position { get; }

    public int Positions { get; }

    /// <summary>The distinct positions this one can forward to, ascending.</summary>
    public IReadOnlyList<int> Fingers { get; }

    /// <summary>Steps between two positions the shorter way around the ring.</summary>
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
        var best = Fingers[0];
        foreach (var finger in Fingers)
        {
            if (Distance(finger, owner, Positions) < Distance(best, owner, Positions))
                best = finger;
        }
        return best;
    }
}
