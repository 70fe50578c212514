using KvAspire.Driver;
using KvAspire.Security;

namespace KvAspire.Tests.Support;

/// <summary>
/// One node of a test topology: replica j of position i is node <c>p{i}r{j}</c>, reached by the test at
/// a loopback address. A node on a namespaced host runs in <paramref name="Namespace"/>; its loopback
/// address here is the test's forward to it, on the node's own ports (the node routes by the port the
/// request names). A node of a cluster with TLS has its CA's file in <paramref name="Authority"/>.
/// </summary>
public sealed record TestNode(string Name, int Position, int Replica, int GrpcPort, int RaftPort, string? Namespace = null,
    string Loopback = "127.0.0.1", string? Authority = null)
{
    public string Scheme => Authority is null ? "http" : "https";

    public string GrpcEndPoint => $"{Loopback}:{GrpcPort}";

    public string GrpcUrl => $"{Scheme}://{GrpcEndPoint}";

    public string StatusAddress => $"{Scheme}://{Loopback}:{RaftPort}/status";

    /// <summary>The node's liveness (<c>/alive</c>): its process is up, from its first moment. Its <c>/health</c>: it serves and its group has a leader.</summary>
    public string AliveAddress => $"{Scheme}://{Loopback}:{RaftPort}/alive";

    public string HealthAddress => $"{Scheme}://{Loopback}:{RaftPort}/health";
}

/// <summary>
/// A <c>cluster.json</c> of <c>replicas</c> nodes per position on free loopback ports, in a test's own
/// directory; nodes are listed by position, then replica.
/// </summary>
public sealed class TestTopology
{
    private TestTopology(string path, IReadOnlyList<TestNode> nodes)
    {
        Path = path;
        Nodes = nodes;
    }

    public const string NodeName = "p0r0";

    /// <summary>A TLS cluster's client certificate (<c>certs/client.crt</c>): its CA issued it, it names no member.</summary>
    public const string ClientCertificate = "client";

    /// <summary>A TLS cluster's <c>certs/expired.crt</c>: its CA issued it to member p0r0, and it expired yesterday.</summary>
    public const string ExpiredCertificate = "expired";

    public string Path { get; }

    /// <summary>The CA's certificate of a cluster with TLS (<see cref="Ring"/> with <c>tls</c>); null for a plaintext one.</summary>
    public string? Authority => Nodes[0].Authority;

    /// <summary>The directory of a TLS cluster's certificates: ca.crt, and each node's .crt and .key.</summary>
    public string CertificatesDirectory => System.IO.Path.Combine(System.IO.Path.GetDirectoryName(Path)!, "certs");

    /// <summary>The console's arguments presenting <paramref name="node"/>'s member certificate, on a cluster with TLS (none on another).</summary>
    public IEnumerable<string> CertificateArguments(TestNode node) => Authority is null
        ? []
        : ["--cert", System.IO.Path.Combine(CertificatesDirectory, DevelopmentCertificates.CertificateFile(node.Name)),
           "--key", System.IO.Path.Combine(CertificatesDirectory, DevelopmentCertificates.KeyFile(node.Name))];

    /// <summary>Client options reaching the cluster through <paramref name="nodes"/>, with its CA when it has TLS.</summary>
    public KvClientOptions ClientOptions(IEnumerable<TestNode> nodes) => new() { Nodes = [.. nodes.Select(n => n.GrpcEndPoint)], Authority = Authority };

    public IReadOnlyList<TestNode> Nodes { get; }

    /// <summary>The first node's ports and files: all there is in a one-node topology.</summary>
    public int GrpcPort => Nodes[0].GrpcPort;

    public int RaftPort => Nodes[0].RaftPort;

    public string GrpcEndPoint => Nodes[0].GrpcEndPoint;

    public string DataDirectory => DataDirectoryOf(Nodes[0]);

    public string DataDirectoryOf(TestNode node) =>
        System.IO.Path.Combine(System.IO.Path.GetDirectoryName(Path)!, "data", node.Name);

    public IEnumerable<TestNode> ReplicasOf(int position) => Nodes.Where(n => n.Position == position);

    /// <summary>The nodes whose <c>log.*</c> files hold <paramref name="key"/>'s bytes: where it was written.</summary>
    public IEnumerable<TestNode> NodesWhoseLogsContain(string key) =>
        Nodes.Where(n => Directory.GetFiles(DataDirectoryOf(n), "log.*")
            .Any(f => File.ReadAllBytes(f).AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(key)) >= 0));

    public static TestTopology SingleNode(TempDirectory directory, int maxValueBytes = 1024 * 1024, int snapshotIntervalSeconds = 30) =>
        Ring(directory, 1, maxValueBytes, snapshotIntervalSeconds);

    /// <param name="tls">Every port serves TLS, with development certificates written to <c>certs/</c>.</param>
    /// <param name="spares">Positions after the ring's whose nodes are spares (<c>"Spare": true</c>), for <c>ring add-position</c>.</param>
    public static TestTopology Ring(TempDirectory directory, int positions, int maxValueBytes = 1024 * 1024,
        int snapshotIntervalSeconds = 30, int replicas = 1, bool placementTags = false, int watchHistoryMiB = 64, bool tls = false, int spares = 0)
    {
        var serving = positions;
        positions += spares;
        var ports = TestPorts.Take(2 * positions * replicas);
        var authority = tls ? directory.File("certs/ca.crt") : null;
        var nodes = Enumerable.Range(0, positions * replicas).Select(n =>
        {
            var (i, j) = (n / replicas, n % replicas);
            return new TestNode($"p{i}r{j}", i, j, ports[2 * n], ports[2 * n + 1], Authority: authority);
        }).ToList();
        if (tls)
            DevelopmentCertificates.Write(directory.File("certs"), nodes.Select(n => (n.Name, (IEnumerable<string>)["127.0.0.1"])), TimeSpan.FromDays(1),
                [new DevelopmentCertificates.Extra(ClientCertificate), new DevelopmentCertificates.Extra(ExpiredCertificate, Member: "p0r0", Expired: true)]);
        var path = directory.File("cluster.json");
        var entries = string.Join(",\n", nodes.Select(n =>
            $$"""    { "Name": "{{n.Name}}", "Position": {{n.Position}}, "Host": "127.0.0.1", "GrpcPort": {{n.GrpcPort}}, "RaftPort": {{n.RaftPort}}{{(n.Position >= serving ? ", \"Spare\": true" : "")}} }"""));
        File.WriteAllText(path, $$"""
            { "Cluster": { "IdBits": 64, "Replicas": {{replicas}}, "DataDirectory": "data", "MaxValueBytes": {{maxValueBytes}},
              "SnapshotIntervalSeconds": {{snapshotIntervalSeconds}}, "PlacementTags": {{(placementTags ? "true" : "false")}},
              "WatchHistoryMiB": {{watchHistoryMiB}},{{TlsSection(tls)}}
              "Nodes": [
            {{entries}}
              ] } }
            """);
        return new TestTopology(path, nodes);
    }

    /// <summary>
    /// Positions × replicas nodes, node n on host n of <paramref name="hosts"/>, binding every interface
    /// (<c>ListenAddress</c> 0.0.0.0) and reached at its host's address, every node on the same two ports.
    /// </summary>
    public static TestTopology OnHosts(TempDirectory directory, NetworkHosts hosts, int positions, int replicas = 3, int snapshotIntervalSeconds = 30,
        bool tls = false)
    {
        const int grpcPort = 7000, raftPort = 7100;
        var count = positions * replicas;
        if (hosts.Addresses.Count < count)
            throw new ArgumentException($"{count} nodes need {count} hosts, not {hosts.Addresses.Count}");
        var authority = tls ? directory.File("certs/ca.crt") : null;
        var nodes = Enumerable.Range(0, count).Select(n => new TestNode($"p{n / replicas}r{n % replicas}", n / replicas, n % replicas,
            grpcPort, raftPort, hosts.Namespaces[n], hosts.Forward(n, grpcPort, raftPort), authority)).ToList();
        // A node's certificate names its host and the loopback address the test reaches it at.
        if (tls)
            DevelopmentCertificates.Write(directory.File("certs"), nodes.Select((n, i) => (n.Name, (IEnumerable<string>)[hosts.Addresses[i], n.Loopback])), TimeSpan.FromDays(1));
        var path = directory.File("cluster.json");
        var entries = string.Join(",\n", nodes.Select((n, i) =>
            $$"""    { "Name": "{{n.Name}}", "Position": {{n.Position}}, "Host": "{{hosts.Addresses[i]}}", "ListenAddress": "0.0.0.0", "GrpcPort": {{grpcPort}}, "RaftPort": {{raftPort}} }"""));
        File.WriteAllText(path, $$"""
            { "Cluster": { "IdBits": 64, "Replicas": {{replicas}}, "DataDirectory": "data", "SnapshotIntervalSeconds": {{snapshotIntervalSeconds}},{{TlsSection(tls)}}
              "Nodes": [
            {{entries}}
              ] } }
            """);
        return new TestTopology(path, nodes);
    }

    private static string TlsSection(bool tls) => tls ? """ "Tls": { "Authority": "certs/ca.crt", "Certificates": "certs" },""" : "";

    /// <summary>Distinct free ports: all are held open until all are chosen.</summary>
}
