using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace KvAspire.Driver.Aspire;

/// <summary>
/// The client integration's settings, bound from the configuration section <c>Aspire:KvAspire:Client</c>,
/// then <c>Aspire:KvAspire:Client:{name}</c>; the connection string <c>ConnectionStrings:{name}</c> (as
/// the hosting integration sets it) wins over <see cref="ConnectionString"/> there, and the delegate given
/// to <c>AddKvAspireClient</c> runs last.
/// </summary>
public sealed class KvAspireClientSettings
{
    /// <summary>
    /// The nodes to call: <c>Endpoints=host:port,host:port</c>, or the bare list. One node is enough; the
    /// client learns the ring's layout, and every other node, from the cluster. A cluster with TLS adds
    /// <c>;Ca=/path/to/ca.crt</c>, its CA (<see cref="KvClientOptions.Authority"/>).
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>The deadline of each call, retries across nodes included.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Leaves out the health check (healthy while the cluster answers a read).</summary>
    public bool DisableHealthChecks { get; set; }

    /// <summary>Leaves out the client's spans (source <c>KvAspire.Driver</c>) from OpenTelemetry tracing.</summary>
    public bool DisableTracing { get; set; }

    /// <summary>Leaves out the client's metrics (meter <c>KvAspire.Driver</c>) from OpenTelemetry metrics.</summary>
    public bool DisableMetrics { get; set; }

    /// <summary>
    /// The settings from <c>Aspire:KvAspire:Client</c>, then its <paramref name="connectionName"/> subsection, then the
    /// connection string <c>ConnectionStrings:{connectionName}</c>, then <paramref name="configure"/>.
    /// </summary>
    public static KvAspireClientSettings From(IConfiguration configuration, string connectionName, Action<KvAspireClientSettings>? configure)
    {
        var settings = new KvAspireClientSettings();
        var section = configuration.GetSection(KvAspireClientExtensions.DefaultConfigSectionName);
        section.Bind(settings);
        section.GetSection(connectionName).Bind(settings);
        if (configuration.GetConnectionString(connectionName) is { } connectionString)
            settings.ConnectionString = connectionString;
        configure?.Invoke(settings);
        return settings;
    }

    /// <exception cref="ArgumentException">The connection string is missing, names no node, or has a key other than Endpoints and Ca.</exception>
    public KvClientOptions ToOptions()
    {
        if (string.IsNullOrWhiteSpace(ConnectionString))
            throw new ArgumentException("no KvAspire connection string: reference the cluster from the AppHost (WithReference), set ConnectionStrings:<name>, or Aspire:KvAspire:Client:ConnectionString");
        var options = new KvClientOptions { RequestTimeout = RequestTimeout };
        foreach (var part in ConnectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var (key, value) = part.IndexOf('=') is var at and > 0 ? (part[..at].Trim(), part[(at + 1)..].Trim()) : ("Endpoints", part);
            if (key.Equals("Ca", StringComparison.OrdinalIgnoreCase))
                options.Authority = value;
            else if (key.Equals("Endpoints", StringComparison.OrdinalIgnoreCase))
                options.Nodes = [.. value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
            else
                throw new ArgumentException($"unknown key '{key}' in the KvAspire connection string (Endpoints and Ca are known; the client learns the ring from the cluster)");
        }
        options.Validate();
        return options;
    }
}
