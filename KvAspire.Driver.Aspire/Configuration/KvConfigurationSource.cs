using Microsoft.Extensions.Configuration;

namespace KvAspire.Driver.Aspire.Configuration;

/// <summary>
/// The keys under <see cref="Prefix"/> as configuration (<c>config/Counters/Step</c> is <c>Counters:Step</c>), kept
/// current by a watch: each change reloads the configuration, so <c>IOptionsMonitor</c> and change tokens see it.
/// </summary>
public sealed class KvConfigurationSource : IConfigurationSource
{
    public required string Prefix { get; init; }

    public required KvClientOptions ClientOptions { get; init; }

    /// <summary>
    /// Start empty when the cluster does not answer (and fill in once it does), rather than fail the app's start.
    /// </summary>
    public bool Optional { get; init; }

    /// <summary>How long to wait before listing again after the watch fails (the cluster unreachable for the client's whole retry window).</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    public IConfigurationProvider Build(IConfigurationBuilder builder) => new KvConfigurationProvider(this);
}
