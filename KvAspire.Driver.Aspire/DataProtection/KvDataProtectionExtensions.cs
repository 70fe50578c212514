using KvAspire.Driver;
using KvAspire.Driver.Aspire.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Microsoft.AspNetCore.DataProtection;

public static class KvDataProtectionExtensions
{
    /// <summary>
    /// Keeps the Data Protection key ring in KvAspire, one key per element under <paramref name="prefix"/>, through
    /// the app's <see cref="IKvClient"/> (register it with <c>AddKvAspireClient</c>).
    /// </summary>
    public static IDataProtectionBuilder PersistKeysToKvAspire(this IDataProtectionBuilder builder, string prefix = "dataprotection/")
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        builder.Services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(services =>
            new ConfigureOptions<KeyManagementOptions>(options => options.XmlRepository = new KvXmlRepository(services.GetRequiredService<IKvClient>(), prefix)));
        return builder;
    }
}
