using KvAspire.Driver.Aspire;
using KvAspire.Driver.Aspire.Caching;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.Hosting;

public static class KvDistributedCacheExtensions
{
    /// <summary>
    /// Registers <see cref="KvDistributedCache"/> as the app's <see cref="IDistributedCache"/> (and so the second
    /// level of <c>HybridCache</c>), on the <see cref="KvAspire.Driver.IKvClient"/> of <see cref="KvAspireClientExtensions.AddKvAspireClient"/>,
    /// registered here when it is not yet.
    /// </summary>
    public static void AddKvAspireDistributedCache(this IHostApplicationBuilder builder, string connectionName,
        Action<KvDistributedCacheOptions>? configureOptions = null, Action<KvAspireClientSettings>? configureSettings = null)
    {
        builder.AddKvAspireClientOnce(connectionName, configureSettings);
        var options = builder.Services.AddOptions<KvDistributedCacheOptions>();
        if (configureOptions is not null)
            options.Configure(configureOptions);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<IDistributedCache, KvDistributedCache>();
    }
}
