using System.Buffers.Binary;

namespace KvAspire.Driver.Aspire.Caching;

/// <summary>
/// A cached value as stored under its key: a header (format, when it expires, its absolute expiration and sliding
/// window, the lease that deletes it) then the value. Times are Unix milliseconds by the writing app's clock, 0
/// for none. The lease only collects the key some time after it expires; the header decides whether it has.
/// </summary>
internal readonly record struct CacheEntry(long ExpiresAt, long AbsoluteExpiration, long SlidingMs, long Lease, ReadOnlyMemory<byte> Value)
{
    private const byte Format = 1;
    private const int HeaderBytes = 1 + 4 * sizeof(long);

    public bool ExpiredAt(long now) => ExpiresAt != 0 && now >= ExpiresAt;

    /// <summary>The time the entry lasts when set or read at <paramref name="now"/>: its sliding window, up to its absolute expiration.</summary>
    public static long ExpiryFrom(long now, long absoluteExpiration, long slidingMs) => (absoluteExpiration, slidingMs) switch
    {
        (0, 0) => 0,
        (0, _) => now + slidingMs,
        (_, 0) => absoluteExpiration,
        _ => Math.Min(now + slidingMs, absoluteExpiration),
    };

    public byte[] ToBytes()
    {
        var bytes = new byte[HeaderBytes + Value.Length];
        bytes[0] = Format;
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(1), ExpiresAt);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(9), AbsoluteExpiration);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(17), SlidingMs);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(25), Lease);
        Value.Span.CopyTo(bytes.AsSpan(HeaderBytes));
        return bytes;
    }

    /// <exception cref="InvalidDataException">The key holds something else than a cache entry.</exception>
    public static CacheEntry Parse(string key, ReadOnlyMemory<byte> stored)
    {
        var span = stored.Span;
        if (span.Length < HeaderBytes || span[0] != Format)
            throw new InvalidDataException($"key '{key}' does not hold a KvAspire cache entry (format {Format}): was it written by something else than the cache?");
        return new CacheEntry(BinaryPrimitives.ReadInt64LittleEndian(span[1..]), BinaryPrimitives.ReadInt64LittleEndian(span[9..]),
            BinaryPrimitives.ReadInt64LittleEndian(span[17..]), BinaryPrimitives.ReadInt64LittleEndian(span[25..]), stored[HeaderBytes..]);
    }
}
