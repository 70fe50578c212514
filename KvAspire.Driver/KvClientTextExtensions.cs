using System.Text;

namespace KvAspire.Driver;

/// <summary>The same operations with values as UTF-8 text.</summary>
public static class KvClientTextExtensions
{
    public static Task<KvWriteResult> CreateAsync(this IKvClient client, string key, string value, CancellationToken cancellationToken = default) =>
        client.CreateAsync(key, Encoding.UTF8.GetBytes(value), cancellationToken);

    public static Task<KvWriteResult> UpdateAsync(this IKvClient client, string key, string value, long? expectedVersion = null,
        CancellationToken cancellationToken = default) =>
        client.UpdateAsync(key, Encoding.UTF8.GetBytes(value), expectedVersion, cancellationToken);
}
