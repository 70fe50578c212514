using KvAspire.Driver;

namespace KvAspire.Tests.Support;

public static class KeyPresence
{
    /// <summary>Whether <paramref name="key"/> exists, by a linearizable read.</summary>
    public static async Task<bool> ExistsAsync(this IKvClient kv, string key)
    {
        try
        {
            await kv.ReadAsync(key);
            return true;
        }
        catch (KvKeyNotFoundException)
        {
            return false;
        }
    }
}
