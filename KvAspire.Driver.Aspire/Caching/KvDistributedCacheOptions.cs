namespace KvAspire.Driver.Aspire.Caching;

/// <summary>Where <see cref="KvDistributedCache"/> keeps its entries.</summary>
public sealed class KvDistributedCacheOptions
{
    /// <summary>
    /// Put before every cache key (as Redis's <c>InstanceName</c>): apps that share a cluster keep their entries
    /// apart by it. Default <c>cache/</c>.
    /// </summary>
    public string KeyPrefix { get; set; } = "cache/";
}
