using System.Diagnostics;
using System.Text.Json;
using KvAspire.Driver;
using KvAspire.Driver.Aspire;
using KvAspire.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace KvAspire.Tests.Unit;

/// <summary>
/// The client integration as Aspire's own are written: a connection string of endpoints alone, settings
/// bound from <c>Aspire:KvAspire:Client</c> (then the name's subsection, the connection string, the
/// delegate), keyed clients, a health check per client, tracing and metrics each left out on its own, and
/// a configuration schema that matches the settings. No cluster runs: nothing here needs one.
/// </summary>
[Trait("Category", "Unit")]
public sealed class ClientIntegrationTests
{
    private static HostApplicationBuilder Builder(params (string Key, string Value)[] configuration)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(configuration.Select(c => KeyValuePair.Create(c.Key, (string?)c.Value)));
        return builder;
    }

    /// <summary>A node address nothing listens on: calls fail at once, as UNAVAILABLE.</summary>
    private static string Closed() => $"127.0.0.1:{TestPorts.Take(1)[0]}";

    [Theory]
    [InlineData("Endpoints=127.0.0.1:7000, 127.0.0.1:7001")]
    [InlineData("127.0.0.1:7000,127.0.0.1:7001")]
    public void A_connection_string_of_endpoints_alone_names_the_nodes(string connectionString)
    {
        var options = new KvAspireClientSettings { ConnectionString = connectionString }.ToOptions();

        Assert.Equal(["127.0.0.1:7000", "127.0.0.1:7001"], options.Nodes);
        Assert.Null(options.Authority);
    }

    [Fact]
    public void A_connection_string_of_a_cluster_with_TLS_gives_its_CA()
    {
        var options = new KvAspireClientSettings { ConnectionString = "Endpoints=127.0.0.1:7000;Ca=/srv/kv/certs/ca.crt" }.ToOptions();

        Assert.Equal(["127.0.0.1:7000"], options.Nodes);
        Assert.Equal("/srv/kv/certs/ca.crt", options.Authority);
    }

    [Theory]
    [InlineData(null, "no KvAspire connection string")]
    [InlineData("", "no KvAspire connection string")]
    [InlineData("Endpoints=", "no node to call")]
    [InlineData("Endpoints=127.0.0.1:7000;Topology=/x/cluster.json", "unknown key 'Topology'")]
    public void A_connection_string_that_names_no_node_or_more_than_endpoints_is_refused_saying_why(string? connectionString, string reason)
    {
        var error = Assert.Throws<ArgumentException>(() => new KvAspireClientSettings { ConnectionString = connectionString }.ToOptions());

        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public void Settings_bind_from_the_aspire_section_then_the_names_subsection_then_the_connection_string_then_the_delegate()
    {
        var builder = Builder(
            ("Aspire:KvAspire:Client:RequestTimeout", "00:00:03"),
            ("Aspire:KvAspire:Client:DisableTracing", "true"),
            ("Aspire:KvAspire:Client:ConnectionString", "10.0.0.1:1"),
            ("Aspire:KvAspire:Client:kv:DisableMetrics", "true"),
            ("ConnectionStrings:kv", "Endpoints=127.0.0.1:7000"));
        KvAspireClientSettings? seen = null;

        builder.AddKvAspireClient("kv", settings =>
        {
            seen = new KvAspireClientSettings
            {
                ConnectionString = settings.ConnectionString,
                RequestTimeout = settings.RequestTimeout,
                DisableTracing = settings.DisableTracing,
                DisableMetrics = settings.DisableMetrics,
            };
            settings.ConnectionString = "127.0.0.1:7001";
        });

        Assert.Equal(("Endpoints=127.0.0.1:7000", TimeSpan.FromSeconds(3), true, true),
            (seen!.ConnectionString, seen.RequestTimeout, seen.DisableTracing, seen.DisableMetrics));
        using var services = builder.Services.BuildServiceProvider();
        Assert.Equal(["http://127.0.0.1:7001"], ((KvClient)services.GetRequiredService<IKvClient>()).Nodes);
    }

    [Fact]
    public void A_missing_connection_string_fails_at_registration_naming_where_to_put_it()
    {
        var error = Assert.Throws<ArgumentException>(() => Builder().AddKvAspireClient("kv"));

        Assert.Contains("ConnectionStrings:<name>", error.Message);
    }

    [Fact]
    public void Arguments_are_guarded()
    {
        Assert.Throws<ArgumentNullException>(() => ((IHostApplicationBuilder)null!).AddKvAspireClient("kv"));
        Assert.Throws<ArgumentException>(() => Builder().AddKvAspireClient(""));
        Assert.Throws<ArgumentException>(() => Builder().AddKeyedKvAspireClient(""));
    }

    [Fact]
    public void Keyed_clients_are_one_per_name_each_with_its_own_connection_string_and_health_check()
    {
        var builder = Builder(("ConnectionStrings:orders", "127.0.0.1:7000"), ("ConnectionStrings:carts", "127.0.0.1:7100"));

        builder.AddKeyedKvAspireClient("orders");
        builder.AddKeyedKvAspireClient("carts");

        using var services = builder.Services.BuildServiceProvider();
        var orders = (KvClient)services.GetRequiredKeyedService<IKvClient>("orders");
        var carts = (KvClient)services.GetRequiredKeyedService<IKvClient>("carts");
        Assert.Equal(["http://127.0.0.1:7000"], orders.Nodes);
        Assert.Equal(["http://127.0.0.1:7100"], carts.Nodes);
        Assert.Same(orders, services.GetRequiredKeyedService<IKvClient>("orders"));
        Assert.Null(services.GetService<IKvClient>());
        var checks = services.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations.Select(r => r.Name);
        Assert.Equal(["KvAspire_orders", "KvAspire_carts"], checks);
    }

    [Fact]
    public async Task The_health_check_says_unhealthy_when_the_cluster_does_not_answer_and_is_left_out_when_disabled()
    {
        var builder = Builder(("ConnectionStrings:kv", Closed()), ("Aspire:KvAspire:Client:RequestTimeout", "00:00:01"));
        builder.AddKvAspireClient("kv");
        var disabled = Builder(("ConnectionStrings:kv", Closed()), ("Aspire:KvAspire:Client:DisableHealthChecks", "true"));
        disabled.AddKvAspireClient("kv");

        using var services = builder.Services.BuildServiceProvider();
        var report = await services.GetRequiredService<HealthCheckService>().CheckHealthAsync();

        var entry = Assert.Single(report.Entries);
        Assert.Equal(("KvAspire", HealthStatus.Unhealthy), (entry.Key, entry.Value.Status));
        Assert.Contains("did not answer", entry.Value.Description);
        using var without = disabled.Services.BuildServiceProvider();
        Assert.Empty(without.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations);
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public async Task Tracing_and_metrics_are_each_left_out_on_their_own(bool disableTracing, bool disableMetrics)
    {
        var spans = new List<Activity>();
        var metrics = new List<Metric>();
        var builder = Builder(("ConnectionStrings:kv", Closed()));
        builder.AddKvAspireClient("kv", settings =>
        {
            settings.DisableTracing = disableTracing;
            settings.DisableMetrics = disableMetrics;
            settings.RequestTimeout = TimeSpan.FromSeconds(1);
        });
        builder.Services.AddOpenTelemetry()
            .WithTracing(tracing => tracing.AddInMemoryExporter(spans))
            .WithMetrics(meters => meters.AddInMemoryExporter(metrics));

        using var services = builder.Services.BuildServiceProvider();
        var tracer = services.GetRequiredService<TracerProvider>();
        var meter = services.GetRequiredService<MeterProvider>();
        await Assert.ThrowsAsync<KvUnavailableException>(() => services.GetRequiredService<IKvClient>().ReadAsync("k"));
        tracer.ForceFlush();
        meter.ForceFlush();

        Assert.Equal(!disableTracing, spans.Any(s => s.Source.Name == KvClientTelemetry.Name));
        Assert.Equal(!disableMetrics, metrics.Any(m => m.MeterName == KvClientTelemetry.Name));
    }

    [Fact]
    public void The_configuration_schema_describes_every_setting_and_nothing_else()
    {
        using var schema = JsonDocument.Parse(File.ReadAllText(Paths.RepositoryFile(Path.Combine("KvAspire.Driver.Aspire", "ConfigurationSchema.json"))));
        var client = schema.RootElement.GetProperty("properties").GetProperty("Aspire").GetProperty("properties")
            .GetProperty("KvAspire").GetProperty("properties").GetProperty("Client").GetProperty("properties");

        var described = client.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetProperty("type").GetString()!);
        var settings = typeof(KvAspireClientSettings).GetProperties().Where(p => p.CanWrite).ToDictionary(p => p.Name, p => p.PropertyType switch
        {
            var t when t == typeof(bool) => "boolean",
            _ => "string",
        });

        Assert.Equal(settings.OrderBy(s => s.Key), described.OrderBy(d => d.Key));
        Assert.All(client.EnumerateObject(), p => Assert.False(string.IsNullOrWhiteSpace(p.Value.GetProperty("description").GetString())));
    }
}
