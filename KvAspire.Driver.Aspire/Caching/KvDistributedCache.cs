using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Options;

namespace KvAspire.Driver.Aspire.Caching;

/// <summary>
/// <see cref="IDistributedCache"/> on KvAspire (so also the second level of <c>HybridCache</c>, sessions and output
/// caching): one key per entry, under <see cref="KvDistributedCacheOptions.KeyPrefix"/>. An entry that expires
/// holds a lease of its lifetime, which deletes it once lapsed (at the lease's minimum TTL at the soonest); until
/// then the time kept with the value, by the app's clock, makes it a miss from the moment it expires. Reading
/// or refreshing an entry with a sliding expiration renews its lease and moves its expiry (a write, as Redis's
/// <c>EXPIRE</c> is). A replaced entry's former lease lapses by itself, holding nothing.
/// </summary>
public sealed class KvDistributedCache(IKvClient kv, IOptions<KvDistributedCacheOptions> options, TimeProvider time) : IDistributedCache
{
    private readonly string _prefix = options.Value.KeyPrefix;

    public byte[]? Get(string key) => GetAsync(key).GetAwaiter().GetResult();

    public async Task<byte[]?> GetAsync(string key, CancellationToken token = default)
    {
        if (await FindAsync(key, token) is not var (entry, version))
            return null;
        await SlideAsync(key, entry, version, token);
        return entry.Value.ToArray();
    }

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => SetAsync(key, value, options).GetAwaiter().GetResult();

    public async Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(options);
        var now = Now;
        var absolute = options.AbsoluteExpiration?.ToUnixTimeMilliseconds()
                       ?? (options.AbsoluteExpirationRelativeToNow is { } relative ? now + (long)relative.TotalMilliseconds : 0);
        if (absolute != 0 && absolute <= now)
            throw new ArgumentOutOfRangeException(nameof(options), options.AbsoluteExpiration, "the absolute expiration is not in the future");
        var sliding = (long)(options.SlidingExpiration?.TotalMilliseconds ?? 0);
        if (options.SlidingExpiration is not null && sliding <= 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.SlidingExpiration, "the sliding expiration is not positive");

        var expiresAt = CacheEntry.ExpiryFrom(now, absolute, sliding);
        var stored = Stored(key);
        var lease = expiresAt == 0 ? 0 : await GrantAsync(stored, TimeSpan.FromMilliseconds(expiresAt - now), token);
        await PutAsync(stored, new CacheEntry(expiresAt, absolute, sliding, lease, value).ToBytes(), lease, token);
    }

    public void Refresh(string key) => RefreshAsync(key).GetAwaiter().GetResult();

    public async Task RefreshAsync(string key, CancellationToken token = default)
    {
        if (await FindAsync(key, token) is var (entry, version))
            await SlideAsync(key, entry, version, token);
    }

    public void Remove(string key) => RemoveAsync(key).GetAwaiter().GetResult();

    public async Task RemoveAsync(string key, CancellationToken token = default)
    {
        try
        {
            await kv.DeleteAsync(Stored(key), cancellationToken: token);
        }
        catch (KvKeyNotFoundException)
        {
        }
    }

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    private string Stored(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return _prefix + key;
    }

    /// <summary>The entry and its version, unless it is missing or expired.</summary>
    private async Task<(CacheEntry Entry, long Version)?> FindAsync(string key, CancellationToken token)
    {
        var stored = Stored(key);
        try
        {
            var read = await kv.ReadAsync(stored, token);
            var entry = CacheEntry.Parse(stored, read.Value);
            return entry.ExpiredAt(Now) ? null : (entry, read.Version);
        }
        catch (KvKeyNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Moves a sliding entry's expiry to a window from now (up to its absolute expiration), its lease first.</summary>
    private async Task SlideAsync(string key, CacheEntry entry, long version, CancellationToken token)
    {
        if (entry.SlidingMs == 0)
            return;
        try
        {
            // The lease's TTL is at least the window (or, when the absolute expiration came first, the time to it),
            // so renewed now it outlives the new expiry.
            await kv.KeepLeaseAliveAsync(entry.Lease, token);
            var moved = entry with { ExpiresAt = CacheEntry.ExpiryFrom(Now, entry.AbsoluteExpiration, entry.SlidingMs) };
            await kv.UpdateAsync(Stored(key), moved.ToBytes(), version, entry.Lease, token);
        }
        catch (Exception e) when (e is KvLeaseNotFoundException or KvKeyNotFoundException or KvVersionMismatchException)
        {
            // Expired meanwhile, or set or removed by another caller: theirs is the newer entry.
        }
    }

    /// <summary>A lease the entry's key lives on, not kept alive: it lapses on its own.</summary>
    private async Task<long> GrantAsync(string stored, TimeSpan ttl, CancellationToken token)
    {
        await using var lease = await kv.GrantLeaseAsync(ttl, stored, token);
        lease.Abandon();
        return lease.Id;
    }

    /// <summary>Sets the key whether it exists or not (an update, else a create, until one holds).</summary>
    private async Task PutAsync(string stored, byte[] bytes, long lease, CancellationToken token)
    {
        while (true)
        {
            try
            {
                await kv.UpdateAsync(stored, bytes, expectedVersion: null, lease, token);
                return;
            }
            catch (KvKeyNotFoundException)
            {
            }
            try
            {
                await kv.CreateAsync(stored, bytes, lease, token);
                return;
            }
            catch (KvKeyExistsException)
            {
            }
        }
    }
}
