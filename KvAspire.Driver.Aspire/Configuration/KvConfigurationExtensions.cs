using KvAspire.Driver.Aspire;
using KvAspire.Driver.Aspire.Configuration;

namespace Microsoft.Extensions.Configuration;

public static class KvConfigurationExtensions
{
    /// <summary>
    /// Adds the keys under <paramref name="prefix"/> to the configuration (<c>config/Counters/Step</c> as
    /// <c>Counters:Step</c>), reloaded on every change, for the cluster of the connection string
    /// <c>ConnectionStrings:{connectionName}</c> with the client settings of <c>AddKvAspireClient</c>. The
    /// connection string must be in the configuration already (Aspire sets it in the environment).
    /// </summary>
    /// <param name="optional">Start empty when the cluster does not answer, rather than fail.</param>
    /// <exception cref="InvalidOperationException">The cluster did not answer and the source is not optional.</exception>
    public static IConfigurationManager AddKvAspire(this IConfigurationManager configuration, string prefix, string connectionName = "kv",
        bool optional = false, Action<KvAspireClientSettings>? configureSettings = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        var settings = KvAspireClientSettings.From(configuration, connectionName, configureSettings);
        configuration.Add(new KvConfigurationSource { Prefix = prefix, ClientOptions = settings.ToOptions(), Optional = optional });
        return configuration;
    }
}
