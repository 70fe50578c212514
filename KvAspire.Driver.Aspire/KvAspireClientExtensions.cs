using KvAspire.Driver;
using KvAspire.Driver.Aspire;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>Registers the KvAspire client in a service, the way <c>AddRedisClient</c> registers Redis.</summary>
public static class KvAspireClientExtensions
{
    public const string SettingsSection = "KvAspire:Client";

    /// <summary>
    /// Registers one <see cref="IKvClient"/> (a singleton, shared by the whole app) for the cluster of the
    /// connection string <c>ConnectionStrings:{connectionName}</c>, with settings from <c>KvAspire:Client</c>
    /// then <paramref name="configure"/>; a health check (the cluster answers a read) and the client's
    /// traces and metrics in OpenTelemetry, unless the settings turn them off.
    /// </summary>
    public static IHostApplicationBuilder AddKvAspireClient(this IHostApplicationBuilder builder, string connectionName,
        Action<KvAspireClientSettings>? configure = null)
    {
        var settings = new KvAspireClientSettings();
        builder.Configuration.GetSection(SettingsSection).Bind(settings);
        if (builder.Configuration.GetConnectionString(connectionName) is { } connectionString)
            settings.ConnectionString = connectionString;
        configure?.Invoke(settings);

        var options = settings.ToOptions();
        builder.Services.AddSingleton<IKvClient>(_ => new KvClient(options));
        if (!settings.DisableHealthChecks)
            builder.Services.AddHealthChecks().AddCheck<KvClientHealthCheck>($"kvaspire_{connectionName}");
        if (!settings.DisableTracing)
        {
            builder.Services.AddOpenTelemetry()
                .WithTracing(tracing => tracing.AddSource(KvClientTelemetry.Name))
                .WithMetrics(metrics => metrics.AddMeter(KvClientTelemetry.Name));
        }
        return builder;
    }
}
