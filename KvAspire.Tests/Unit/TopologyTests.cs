using KvAspire.Cluster;
using KvAspire.Routing;

namespace KvAspire.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class TopologyTests
{
    private const string Valid = """
        { "Cluster": { "IdBits": 16, "Replicas": 3, "SnapshotIntervalSeconds": 5, "DataDirectory": "d",
          "Nodes": [
            { "Name": "p0r0", "Position": 0, "Host": "127.0.0.1", "GrpcPort": 7000, "RaftPort": 7100 },
            { "Name": "p0r1", "Position": 0, "Host": "127.0.0.1", "GrpcPort": 7001, "RaftPort": 7101 },
            { "Name": "p0r2", "Position": 0, "Host": "127.0.0.1", "GrpcPort": 7002, "RaftPort": 7102 } ] } }
        """;

    [Fact]
    public void Reads_a_valid_file()
    {
        var topology = TopologyLoader.Parse(Valid, "/etc/kv/cluster.json");

        Assert.Equal(16, topology.IdBits);
        Assert.Equal(3, topology.Replicas);
        Assert.Equal(1, topology.Positions);
        Assert.Equal([0, 1, 2], topology.Nodes.Select(n => n.Replica));
        var node = topology.GetNode("p0r1");
        Assert.Equal("http://127.0.0.1:7001", node.GrpcUri);
        Assert.Equal("/etc/kv/d/p0r1", topology.DataDirectoryOf(node));
    }

    [Fact]
    public void Fills_defaults_for_optional_fields()
    {
        var topology = TopologyLoader.Parse("""
            { "Cluster": { "Replicas": 1, "Nodes": [ { "Name": "a", "Position": 0, "Host": "h", "GrpcPort": 1, "RaftPort": 2 } ] } }
            """, "c.json");

        Assert.Equal(64, topology.IdBits);
        Assert.Equal(1024 * 1024, topology.MaxValueBytes);
        Assert.Equal("data", topology.DataDirectory);
        Assert.False(topology.PlacementTags);
        Assert.Equal(64, topology.WatchHistoryMiB);
    }

    [Fact]
    public void Placement_tags_are_switched_on_by_true_and_anything_but_a_boolean_is_refused()
    {
        Assert.True(TopologyLoader.Parse(Valid.Replace("\"DataDirectory\": \"d\",", "\"DataDirectory\": \"d\", \"PlacementTags\": true,"), "c.json").PlacementTags);
        var refused = Assert.Throws<TopologyException>(() =>
            TopologyLoader.Parse(Valid.Replace("\"DataDirectory\": \"d\",", "\"DataDirectory\": \"d\", \"PlacementTags\": \"yes\","), "c.json"));
        Assert.Contains("Cluster.PlacementTags must be true or false", refused.Message);
    }

    [Fact]
    public void Tls_names_the_certificates_beside_the_file_and_makes_every_address_https()
    {
        var topology = TopologyLoader.Parse(Valid.Replace("\"DataDirectory\": \"d\",",
            "\"DataDirectory\": \"d\", \"Tls\": { \"Authority\": \"certs/ca.crt\", \"Certificates\": \"certs\" },"), "/etc/kv/cluster.json");

        Assert.Equal(new TopologyTls("/etc/kv/certs/ca.crt", "/etc/kv/certs"), topology.Tls);
        var node = topology.Nodes[0];
        Assert.Equal(("https://127.0.0.1:7000", "/etc/kv/certs/p0r0.crt", "/etc/kv/certs/p0r0.key"),
            (node.GrpcUri, topology.Tls!.CertificateOf(node), topology.Tls.KeyOf(node)));
        Assert.Null(TopologyLoader.Parse(Valid, "c.json").Tls);
        Assert.StartsWith("http://", TopologyLoader.Parse(Valid, "c.json").Nodes[0].HttpUri);
        Assert.Contains("Cluster.Tls must be an object", Assert.Throws<TopologyException>(() =>
            TopologyLoader.Parse(Valid.Replace("\"DataDirectory\": \"d\",", "\"DataDirectory\": \"d\", \"Tls\": true,"), "c.json")).Message);
        Assert.Contains("Cluster.Tls is missing the required field \"Certificates\"", Assert.Throws<TopologyException>(() =>
            TopologyLoader.Parse(Valid.Replace("\"DataDirectory\": \"d\",", "\"DataDirectory\": \"d\", \"Tls\": { \"Authority\": \"ca.crt\" },"), "c.json")).Message);
    }

    [Fact]
    public void A_node_binds_to_its_listen_address_and_is_reached_at_its_host()
    {
        var topology = TopologyLoader.Parse(Valid
            .Replace("\"Host\": \"127.0.0.1\", \"GrpcPort\": 7000", "\"Host\": \"kv-a.example\", \"ListenAddress\": \"*\", \"GrpcPort\": 7000")
            .Replace("\"Host\": \"127.0.0.1\", \"GrpcPort\": 7001", "\"Host\": \"198.18.0.2\", \"ListenAddress\": \"0.0.0.0\", \"GrpcPort\": 7001"),
            "cluster.json");

        Assert.Equal(("*", "http://kv-a.example:7000"), (topology.GetNode("p0r0").BindAddress, topology.GetNode("p0r0").GrpcUri));
        Assert.Equal(("0.0.0.0", "198.18.0.2:7001"), (topology.GetNode("p0r1").BindAddress, topology.GetNode("p0r1").GrpcEndPoint));
        Assert.Equal("127.0.0.1", topology.GetNode("p0r2").BindAddress);
    }

    [Theory]
    [InlineData("\"IdBits\": 16", "\"IdBits\": 0", "IdBits must be between 1 and 64")]
    [InlineData("\"Host\": \"127.0.0.1\", \"GrpcPort\": 7001", "\"Host\": \"127.0.0.1\", \"ListenAddress\": \"all\", \"GrpcPort\": 7001",
        "node 'p0r1' has ListenAddress 'all': use an IP address of its machine")]
    [InlineData("\"Host\": \"127.0.0.1\", \"GrpcPort\": 7001", "\"Host\": \"127.0.0.1\", \"ListenAddress\": 7, \"GrpcPort\": 7001",
        "Cluster.Nodes[1].ListenAddress must be a string")]
    [InlineData("\"IdBits\": 16", "\"IdBits\": 65", "IdBits must be between 1 and 64")]
    [InlineData("\"IdBits\": 16", "\"IdBits\": 16, \"WatchHistoryMiB\": 0", "WatchHistoryMiB must be between 1 and 65536, not 0")]
    [InlineData("\"IdBits\": 16", "\"IdBits\": \"x\"", "Cluster.IdBits must be an integer")]
    [InlineData("\"Name\": \"p0r1\"", "\"Name\": \"p0r0\"", "duplicate node name 'p0r0'")]
    [InlineData("\"GrpcPort\": 7001", "\"GrpcPort\": 7000", "duplicate port 7000 on 127.0.0.1: p0r0.GrpcPort and p0r1.GrpcPort")]
    [InlineData("\"RaftPort\": 7102", "\"RaftPort\": 7000", "duplicate port 7000")]
    [InlineData("\"GrpcPort\": 7002", "\"GrpcPort\": 70000", "outside 1..65535")]
    [InlineData("\"Host\": \"127.0.0.1\", \"GrpcPort\": 7001,", "\"GrpcPort\": 7001,", "Cluster.Nodes[1] is missing the required field \"Host\"")]
    [InlineData("\"Position\": 0, \"Host\": \"127.0.0.1\", \"GrpcPort\": 7002", "\"Host\": \"127.0.0.1\", \"GrpcPort\": 7002", "Cluster.Nodes[2] is missing the required field \"Position\"")]
    [InlineData("\"Replicas\": 3", "\"Replicas\": 2", "node 'p0r2' is replica 2, but Replicas is 2")]
    [InlineData("\"Name\": \"p0r2\", \"Position\": 0", "\"Name\": \"p0r2\", \"Position\": 1", "position 0 has 2 node(s), but Replicas is 3")]
    [InlineData("\"Cluster\"", "\"Clusters\"", "missing the \"Cluster\" object")]
    [InlineData("\"Nodes\": [", "\"Nodes\": 3, \"X\": [", "Nodes is missing or not an array")]
    [InlineData("} ] } }", "} ", "not valid JSON")]
    [InlineData("\"RaftPort\": 7102 }", "\"RaftPort\": 7102, \"Spare\": true }", "position 0 has spare and serving nodes")]
    [InlineData("\"RaftPort\": 7100 }", "\"RaftPort\": 7100, \"Spare\": true }", "position 0 has spare and serving nodes")]
    public void Rejects_an_invalid_file_saying_why(string find, string replace, string expected)
    {
        Assert.Contains(find, Valid);
        var error = Assert.Throws<TopologyException>(() => TopologyLoader.Parse(Valid.Replace(find, replace), "cluster.json"));

        Assert.Contains(expected, error.Message);
        Assert.StartsWith("cluster.json: ", error.Message);
    }

    [Fact]
    public void Spare_positions_come_after_the_rings_and_are_not_counted_in_it()
    {
        string Node(int position, int replica, bool spare) =>
            $$"""{ "Name": "p{{position}}r{{replica}}", "Position": {{position}}, "Host": "127.0.0.1", "GrpcPort": {{7000 + 3 * position + replica}}, "RaftPort": {{7100 + 3 * position + replica}}{{(spare ? ", \"Spare\": true" : "")}} }""";
        string File(params bool[] spare) => $$"""
            { "Cluster": { "IdBits": 16, "Replicas": 1, "Nodes": [ {{string.Join(", ", spare.Select((s, p) => Node(p, 0, s)))}} ] } }
            """;

        var topology = TopologyLoader.Parse(File(false, false, true), "cluster.json");

        Assert.Equal(2, topology.Positions);
        Assert.Equal(["p0r0", "p1r0"], RingLayout.Of(topology).Members.Select(m => m.Name));
        Assert.Contains("position 1 serves, but position 0 is spare",
            Assert.Throws<TopologyException>(() => TopologyLoader.Parse(File(true, false), "cluster.json")).Message);
        Assert.Contains("every position is spare", Assert.Throws<TopologyException>(() => TopologyLoader.Parse(File(true), "cluster.json")).Message);
    }

    [Fact]
    public void An_unknown_node_name_lists_the_known_ones()
    {
        var topology = TopologyLoader.Parse(Valid, "cluster.json");

        var error = Assert.Throws<TopologyException>(() => topology.GetNode("p9r9"));

        Assert.Contains("unknown node name 'p9r9'", error.Message);
        Assert.Contains("p0r0, p0r1, p0r2", error.Message);
    }

    [Fact]
    public void A_missing_file_is_a_topology_error()
    {
        var error = Assert.Throws<TopologyException>(() => TopologyLoader.Load("/nonexistent/cluster.json"));
        Assert.Contains("cannot read the topology file", error.Message);
    }

    [Fact]
    public void The_repository_default_is_4_positions_of_3_replicas_and_a_spare_position()
    {
        var topology = TopologyLoader.Load(Support.Paths.RepositoryFile("cluster.json"));

        Assert.Equal(
            from position in Enumerable.Range(0, 5) from replica in Enumerable.Range(0, 3) select $"p{position}r{replica}",
            topology.Nodes.Select(n => n.Name));
        Assert.Equal(topology.Nodes.Select(n => n.Position == 4), topology.Nodes.Select(n => n.Spare));
        Assert.Equal(4, topology.Positions);
        Assert.Equal(4, RingLayout.Of(topology).Positions);
        Assert.Equal(3, topology.Replicas);
        Assert.Equal(topology.Nodes.Select((n, i) => (7000 + i, 7100 + i)), topology.Nodes.Select(n => (n.GrpcPort, n.RaftPort)));
    }
}
