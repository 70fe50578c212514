namespace KvAspire.Bench;

/// <summary>
/// Key choice for benchmarks, pure given its random source. Zipfian (YCSB's constant 0.99, after Gray et
/// al., "Quickly generating billion-record synthetic databases") with the popular items scattered over
/// the key space by a hash, as YCSB's scrambled zipfian does; or uniform.
/// </summary>
public sealed class KeyChooser
{
    private const double Theta = 0.99;

    private readonly long _items;
    private readonly bool _zipfian;
    private readonly double _alpha;
    private readonly double _zetaN;
    private readonly double _eta;

    public KeyChooser(long items, bool zipfian)
    {
        if (items < 1)
            throw new ArgumentOutOfRangeException(nameof(items), items, "at least one key");
        _items = items;
        _zipfian = zipfian;
        if (!zipfian)
            return;
        _alpha = 1 / (1 - Theta);
        _zetaN = Zeta(items);
        var zeta2 = Zeta(2);
        _eta = (1 - Math.Pow(2.0 / items, 1 - Theta)) / (1 - zeta2 / _zetaN);
    }

    /// <summary>A key number in [0, items).</summary>
    public long Next(Random random)
    {
        if (!_zipfian)
            return random.NextInt64(_items);
        var u = random.NextDouble();
        var uz = u * _zetaN;
        long rank = uz < 1 ? 0
            : uz < 1 + Math.Pow(0.5, Theta) ? 1
            : (long)(_items * Math.Pow(_eta * u - _eta + 1, _alpha));
        return Scatter(Math.Min(rank, _items - 1));
    }

    /// <summary>The rank-th most popular key's number: FNV-1a of the rank, so hot keys are not neighbours.</summary>
    private long Scatter(long rank)
    {
        var hash = 14695981039346656037UL;
        for (var i = 0; i < 8; i++)
        {
            hash ^= (byte)(rank >> (8 * i));
            hash *= 1099511628211UL;
        }
        return (long)(hash % (ulong)_items);
    }

    private static double Zeta(long n)
    {
        var sum = 0.0;
        for (long i = 1; i <= n; i++)
            sum += 1 / Math.Pow(i, Theta);
        return sum;
    }
}
