using KvAspire.Cluster;

namespace KvAspire.Driver.Aspire;

/// <summary>
/// The client integration's settings, bound from the configuration section <c>KvAspire:Client</c>; the
/// connection string (<c>ConnectionStrings:{name}</c>, as the hosting integration sets it) wins over
/// <see cref="ConnectionString"/> there.
/// </summary>
public sealed class KvAspireClientSettings
{
    /// <summary><c>Endpoints=host:port,host:port;Topology=/path/cluster.json</c>; either part may be left out, not both.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>The deadline of each call, retries across nodes included.</summary>
    public double RequestTimeoutSeconds { get; set; } = 10;

    public bool DisableHealthChecks { get; set; }

    public bool DisableTracing { get; set; }

    /// <exception cref="ArgumentException">The connection string is missing or names no node.</exception>
    public KvClientOptions ToOptions()
    {
        if (string.IsNullOrWhiteSpace(ConnectionString))
            throw new ArgumentException("no KvAspire connection string: reference the cluster from the AppHost (WithReference) or set ConnectionStrings:<name>");
        var options = new KvClientOptions { RequestTimeout = TimeSpan.FromSeconds(RequestTimeoutSeconds) };
        foreach (var part in ConnectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var (key, value) = part.IndexOf('=') is var at and > 0 ? (part[..at].Trim(), part[(at + 1)..].Trim()) : ("Endpoints", part);
            if (key.Equals("Endpoints", StringComparison.OrdinalIgnoreCase))
                options.Nodes = [.. value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
            else if (key.Equals("Topology", StringComparison.OrdinalIgnoreCase))
                options.Topology = TopologyLoader.Load(value);
            else
                throw new ArgumentException($"unknown key '{key}' in the KvAspire connection string (Endpoints and Topology are known)");
        }
        options.Validate();
        return options;
    }
}
