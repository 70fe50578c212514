using KvAspire.Driver.Aspire;
using KvAspire.Driver.Aspire.Locking;
using Medallion.Threading;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.Extensions.Hosting;

public static class KvDistributedLockExtensions
{
    /// <summary>
    /// Registers <see cref="KvDistributedLockProvider"/> as the app's <see cref="IDistributedLockProvider"/>, on the
    /// <see cref="KvAspire.Driver.IKvClient"/> of <see cref="KvAspireClientExtensions.AddKvAspireClient"/>, registered here when it is not yet.
    /// </summary>
    public static void AddKvAspireDistributedLocks(this IHostApplicationBuilder builder, string connectionName,
        Action<KvDistributedLockOptions>? configureOptions = null, Action<KvAspireClientSettings>? configureSettings = null)
    {
        builder.AddKvAspireClientOnce(connectionName, configureSettings);
        var options = builder.Services.AddOptions<KvDistributedLockOptions>();
        if (configureOptions is not null)
            options.Configure(configureOptions);
        builder.Services.AddSingleton<KvDistributedLockProvider>();
        builder.Services.AddSingleton<IDistributedLockProvider>(services => services.GetRequiredService<KvDistributedLockProvider>());
    }
}
