using KvAspire.Driver;
using KvAspire.Driver.Aspire;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.Hosting;

/// <summary>Registers the KvAspire client in a service, the way <c>AddRedisClient</c> registers Redis.</summary>
public static class KvAspireClientExtensions
{
    public const string DefaultConfigSectionName = "Aspire:KvAspire:Client";

    /// <summary>
    /// Registers one <see cref="IKvClient"/> (a singleton, shared by the whole app) for the cluster of the
    /// connection string <c>ConnectionStrings:{connectionName}</c>, with settings from
    /// <c>Aspire:KvAspire:Client</c> (then its <c>{connectionName}</c> subsection), then
    /// <paramref name="configureSettings"/>; a health check (the cluster answers a read), and the client's
    /// traces and metrics in OpenTelemetry, unless the settings leave them out.
    /// </summary>
    public static void AddKvAspireClient(this IHostApplicationBuilder builder, string connectionName,
        Action<KvAspireClientSettings>? configureSettings = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(connectionName);
        AddClient(builder, connectionName, serviceKey: null, configureSettings);
    }

    /// <summary>
    /// As <see cref="AddKvAspireClient"/>, for one of several clusters: the client is a keyed service
    /// (<c>[FromKeyedServices("{name}")] IKvClient</c>), its health check is <c>KvAspire_{name}</c>.
    /// </summary>
    public static void AddKeyedKvAspireClient(this IHostApplicationBuilder builder, string name,
        Action<KvAspireClientSettings>? configureSettings = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        AddClient(builder, name, serviceKey: name, configureSettings);
    }

    /// <summary>Registers the client as <see cref="AddKvAspireClient"/> does, unless an <see cref="IKvClient"/> is registered already.</summary>
    internal static void AddKvAspireClientOnce(this IHostApplicationBuilder builder, string connectionName,
        Action<KvAspireClientSettings>? configureSettings)
    {
        if (!builder.Services.Any(service => service.ServiceType == typeof(IKvClient) && !service.IsKeyedService))
            builder.AddKvAspireClient(connectionName, configureSettings);
    }

    private static void AddClient(IHostApplicationBuilder builder, string connectionName, string? serviceKey,
        Action<KvAspireClientSettings>? configureSettings)
    {
        var settings = KvAspireClientSettings.From(builder.Configuration, connectionName, configureSettings);
        var options = settings.ToOptions();

        if (serviceKey is null)
            builder.Services.AddSingleton<IKvClient>(_ => new KvClient(options));
        else
            builder.Services.AddKeyedSingleton<IKvClient>(serviceKey, (_, _) => new KvClient(options));

        if (!settings.DisableHealthChecks)
        {
            builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
                serviceKey is null ? "KvAspire" : $"KvAspire_{serviceKey}",
                services => new KvClientHealthCheck(serviceKey is null
                    ? services.GetRequiredService<IKvClient>()
                    : services.GetRequiredKeyedService<IKvClient>(serviceKey)),
                failureStatus: null, tags: null));
        }
        if (!settings.DisableTracing)
            builder.Services.AddOpenTelemetry().WithTracing(tracing => tracing.AddSource(KvClientTelemetry.Name));
        if (!settings.DisableMetrics)
            builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter(KvClientTelemetry.Name));
    }
}
