using KvAspire.Driver;

namespace KvAspire.Sample;

/// <summary>
/// Named counters kept in KvAspire, one key each (<c>counter/{name}</c>, the count as decimal text).
/// An increment reads the count and writes count + 1 only if the key is still at the version read
/// (test-and-set); when another increment got there first it reads again and retries, so concurrent
/// increments never lose one.
/// </summary>
public sealed class Counters(IKvClient kv)
{
    private const int MaxAttempts = 100;

    public sealed record Count(string Name, long Value, long Version);

    public async Task<Count?> GetAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            var entry = await kv.ReadAsync(Key(name), cancellationToken);
            return new Count(name, long.Parse(entry.Text, System.Globalization.CultureInfo.InvariantCulture), entry.Version);
        }
        catch (KvKeyNotFoundException)
        {
            return null;
        }
    }

    public async Task<Count> IncrementAsync(string name, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (await GetAsync(name, cancellationToken) is not { } current)
                    return new Count(name, 1, (await kv.CreateAsync(Key(name), "1", cancellationToken)).Version);
                var next = current.Value + 1;
                var written = await kv.UpdateAsync(Key(name), next.ToString(System.Globalization.CultureInfo.InvariantCulture), current.Version, cancellationToken);
                return new Count(name, next, written.Version);
            }
            catch (Exception e) when (e is KvVersionMismatchException or KvKeyExistsException && attempt < MaxAttempts)
            {
                // Another increment came first: read again.
            }
        }
    }

    private static string Key(string name) => $"counter/{name}";
}
