using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// What every KvAspire service shares: OpenTelemetry (exported by OTLP when an endpoint is configured,
/// as Aspire does) and health endpoints.
/// </summary>
public static class Extensions
{
    public const string HealthPath = "/health";
    public const string AlivePath = "/alive";
    private const string GrpcClientSource = "Grpc.Net.Client";

    /// <param name="untracedPaths">
    /// Request paths left out of traces besides the health probes, such as a consensus protocol's
    /// heartbeats, which would bury the requests worth reading.
    /// </param>
    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder, params string[] untracedPaths) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry([HealthPath, AlivePath, .. untracedPaths]);
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), ["live"]);
        return builder;
    }

    private static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder, string[] untracedPaths) where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation())
            .WithTracing(tracing => tracing
                .AddSource(builder.Environment.ApplicationName)
                .AddAspNetCoreInstrumentation(aspnet =>
                    aspnet.Filter = context => !untracedPaths.Any(path => context.Request.Path.StartsWithSegments(path)))
                .AddHttpClientInstrumentation(http =>
                    http.FilterHttpRequestMessage = request =>
                        request.RequestUri is not { } uri || !untracedPaths.Any(path => uri.AbsolutePath.StartsWith(path, StringComparison.Ordinal)))
                // grpc-dotnet's own client span, so that a forward's HTTP request nests under it.
                .AddSource(GrpcClientSource));

        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        }

        return builder;
    }

    /// <summary>
    /// Maps /health (every check) and /alive (liveness only) in every environment: nodes run without a
    /// launch profile under Aspire and by hand, and both need their health visible.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app, string? requireHost = null)
    {
        var health = app.MapHealthChecks(HealthPath);
        var alive = app.MapHealthChecks(AlivePath, new HealthCheckOptions { Predicate = r => r.Tags.Contains("live") });
        if (requireHost is not null)
        {
            health.RequireHost(requireHost);
            alive.RequireHost(requireHost);
        }
        return app;
    }
}
