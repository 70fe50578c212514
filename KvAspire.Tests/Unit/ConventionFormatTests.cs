using KvAspire.Driver;
using KvAspire.Driver.Aspire.Caching;

namespace KvAspire.Tests.Unit;

/// <summary>
/// The pure parts under the .NET interfaces: a cache entry's stored form and its expiry, and which watched
/// changes a multi-page list already shows (so "list, then watch from the list" neither misses nor repeats one).
/// </summary>
[Trait("Category", "Unit")]
public sealed class ConventionFormatTests
{
    [Fact]
    public void A_cache_entry_reads_back_as_written_and_anything_else_is_refused_naming_the_key()
    {
        var entry = new CacheEntry(ExpiresAt: 5_000, AbsoluteExpiration: 9_000, SlidingMs: 2_000, Lease: (3L << 32) | 7, "value"u8.ToArray());

        var read = CacheEntry.Parse("cache/k", entry.ToBytes());
        var foreign = Assert.Throws<InvalidDataException>(() => CacheEntry.Parse("cache/other", "plain text"u8.ToArray()));
        var truncated = Assert.Throws<InvalidDataException>(() => CacheEntry.Parse("cache/short", entry.ToBytes()[..10]));

        Assert.Equal((5_000L, 9_000L, 2_000L, (3L << 32) | 7), (read.ExpiresAt, read.AbsoluteExpiration, read.SlidingMs, read.Lease));
        Assert.Equal("value"u8.ToArray(), read.Value.ToArray());
        Assert.Contains("cache/other", foreign.Message);
        Assert.Contains("cache/short", truncated.Message);
    }

    [Theory]
    [InlineData(0, 0, 0)]
    [InlineData(0, 2_000, 3_000)]
    [InlineData(9_000, 0, 9_000)]
    [InlineData(9_000, 2_000, 3_000)]
    [InlineData(2_500, 2_000, 2_500)]
    public void An_entry_lasts_its_sliding_window_up_to_its_absolute_expiration(long absolute, long sliding, long expiresAt)
    {
        Assert.Equal(expiresAt, CacheEntry.ExpiryFrom(now: 1_000, absolute, sliding));
        Assert.Equal(expiresAt != 0, new CacheEntry(expiresAt, absolute, sliding, 0, default).ExpiredAt(expiresAt));
        Assert.False(new CacheEntry(expiresAt, absolute, sliding, 0, default).ExpiredAt(expiresAt - 1));
    }

    [Fact]
    public void A_list_of_pages_shows_a_change_up_to_the_revision_of_the_page_its_key_falls_in()
    {
        var listing = new KvListing([], [
            ("cfg/b", new Dictionary<int, long> { [0] = 10, [1] = 20 }),
            (null, new Dictionary<int, long> { [0] = 15, [1] = 25 }),
        ]);

        static KvEvent Change(string key, int position, long revision) =>
            new(KvEventKind.Put, position, revision, key, default, 1, default, null);

        Assert.Equal(new Dictionary<int, long> { [0] = 10, [1] = 20 }, listing.WatchFrom);
        Assert.True(listing.Shows(Change("cfg/a", 0, 10)));
        Assert.False(listing.Shows(Change("cfg/a", 0, 11)));
        Assert.True(listing.Shows(Change("cfg/b", 1, 20)));
        Assert.True(listing.Shows(Change("cfg/c", 0, 15)));
        Assert.False(listing.Shows(Change("cfg/c", 0, 16)));
        Assert.False(listing.Shows(Change("cfg/c", 2, 1)));
    }
}
