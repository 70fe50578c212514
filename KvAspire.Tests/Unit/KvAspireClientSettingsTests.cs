using KvAspire.Driver.Aspire;
using KvAspire.Tests.Support;

namespace KvAspire.Tests.Unit;

/// <summary>The client integration's connection string, as the hosting integration writes it and as a user might.</summary>
[Trait("Category", "Unit")]
public sealed class KvAspireClientSettingsTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void Endpoints_and_topology_both_reach_the_client_options()
    {
        var topology = TestTopology.Ring(_directory, 2);

        var options = new KvAspireClientSettings
        {
            ConnectionString = $"Endpoints=127.0.0.1:7000, 127.0.0.1:7001;Topology={topology.Path}",
            RequestTimeoutSeconds = 3,
        }.ToOptions();

        Assert.Equal(["127.0.0.1:7000", "127.0.0.1:7001"], options.Nodes);
        Assert.Equal(2, options.Topology!.Positions);
        Assert.Equal(TimeSpan.FromSeconds(3), options.RequestTimeout);
    }

    [Fact]
    public void A_topology_alone_names_its_nodes()
    {
        var topology = TestTopology.Ring(_directory, 2);

        var options = new KvAspireClientSettings { ConnectionString = $"Topology={topology.Path}" }.ToOptions();

        Assert.Equal(topology.Nodes.Select(n => n.GrpcEndPoint), options.Validate());
    }

    [Fact]
    public void A_bare_list_of_endpoints_is_a_connection_string_too()
    {
        var options = new KvAspireClientSettings { ConnectionString = "10.0.0.1:7000,10.0.0.2:7000" }.ToOptions();

        Assert.Equal(["10.0.0.1:7000", "10.0.0.2:7000"], options.Nodes);
        Assert.Null(options.Topology);
    }

    [Theory]
    [InlineData(null, "no KvAspire connection string")]
    [InlineData("", "no KvAspire connection string")]
    [InlineData("Endpoints=", "no node to call")]
    [InlineData("Servers=127.0.0.1:7000", "unknown key 'Servers'")]
    public void A_connection_string_that_names_no_node_is_refused_saying_why(string? connectionString, string reason)
    {
        var error = Assert.Throws<ArgumentException>(() => new KvAspireClientSettings { ConnectionString = connectionString }.ToOptions());

        Assert.Contains(reason, error.Message);
    }
}
