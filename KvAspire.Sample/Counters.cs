using System.Globalization;
using KvAspire.Driver;
using Medallion.Threading;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Options;

namespace KvAspire.Sample;

/// <summary>
/// Named counters kept in KvAspire, one key each (<c>counter/{name}</c>, the count as decimal text).
/// An increment reads the count and writes count + step only if the key is still at the version read
/// (test-and-set); when another increment got there first it reads again and retries, so concurrent
/// increments never lose one. Reads go through the distributed cache for a second; a change removes the
/// cached count, so a read after it sees it.
/// </summary>
public sealed class Counters(IKvClient kv, IDistributedCache cache, IOptionsMonitor<CounterSettings> settings)
{
    private const int MaxAttempts = 100;
    private static readonly DistributedCacheEntryOptions Cached = new() { AbsoluteExpirationRelativeToNow = TimeSpan.FromSeconds(1) };

    public sealed record Count(string Name, long Value, long Version);

    public async Task<Count?> GetAsync(string name, CancellationToken cancellationToken)
    {
        if (await cache.GetStringAsync(Key(name), cancellationToken) is { } cached)
            return Parse(name, cached);
        if (await ReadAsync(name, cancellationToken) is not { } count)
            return null;
        await cache.SetStringAsync(Key(name), Format(count), Cached, cancellationToken);
        return count;
    }

    public async Task<Count> IncrementAsync(string name, CancellationToken cancellationToken)
    {
        var step = settings.CurrentValue.Step;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                Count written;
                if (await ReadAsync(name, cancellationToken) is not { } current)
                    written = new Count(name, step, (await kv.CreateAsync(Key(name), Text(step), cancellationToken)).Version);
                else
                    written = new Count(name, current.Value + step, (await kv.UpdateAsync(Key(name), Text(current.Value + step), current.Version, cancellationToken)).Version);
                await cache.RemoveAsync(Key(name), cancellationToken);
                return written;
            }
            catch (Exception e) when (e is KvVersionMismatchException or KvKeyExistsException && attempt < MaxAttempts)
            {
                // Another increment came first: read again.
            }
        }
    }

    /// <summary>
    /// Archives the count (<c>counter-archive/{name}/{fencing token}</c>) and starts the counter again, one reset
    /// at a time: the lock makes the archive and the restart one step, and its fencing token names the archive.
    /// </summary>
    public async Task<Count> ResetAsync(string name, IDistributedLockProvider locks, CancellationToken cancellationToken)
    {
        await using var held = await locks.AcquireLockAsync($"counter-reset/{name}", TimeSpan.FromSeconds(30), cancellationToken);
        var token = ((KvAspire.Driver.Aspire.Locking.KvLockHandle)held).FencingToken;
        var current = await ReadAsync(name, cancellationToken) ?? new Count(name, 0, 0);
        await kv.CreateAsync($"counter-archive/{name}/{token}", Text(current.Value), cancellationToken);
        var written = current.Version == 0
            ? await kv.CreateAsync(Key(name), Text(0), cancellationToken)
            : await kv.UpdateAsync(Key(name), Text(0), cancellationToken: cancellationToken);
        await cache.RemoveAsync(Key(name), cancellationToken);
        return new Count(name, 0, written.Version);
    }

    private async Task<Count?> ReadAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            var entry = await kv.ReadAsync(Key(name), cancellationToken);
            return new Count(name, long.Parse(entry.Text, CultureInfo.InvariantCulture), entry.Version);
        }
        catch (KvKeyNotFoundException)
        {
            return null;
        }
    }

    private static string Key(string name) => $"counter/{name}";

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Format(Count count) => $"{count.Value} {count.Version}";

    private static Count Parse(string name, string cached)
    {
        var parts = cached.Split(' ');
        return new Count(name, long.Parse(parts[0], CultureInfo.InvariantCulture), long.Parse(parts[1], CultureInfo.InvariantCulture));
    }
}
