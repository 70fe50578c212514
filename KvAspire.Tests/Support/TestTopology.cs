using System.Net;
using System.Net.Sockets;

namespace KvAspire.Tests.Support;

/// <summary>A <c>cluster.json</c> of one node on free loopback ports, written into a test's own directory.</summary>
public sealed class TestTopology
{
    private TestTopology(string path, int grpcPort, int raftPort)
    {
        Path = path;
        GrpcPort = grpcPort;
        RaftPort = raftPort;
    }

    public const string NodeName = "p0r0";

    public string Path { get; }

    public int GrpcPort { get; }

    public int RaftPort { get; }

    public string GrpcAddress => $"127.0.0.1:{GrpcPort}";

    public string DataDirectory => System.IO.Path.Combine(System.IO.Path.GetDirectoryName(Path)!, "data", NodeName);

    public static TestTopology SingleNode(TempDirectory directory, int maxValueBytes = 1024 * 1024, int snapshotIntervalSeconds = 30)
    {
        var (grpcPort, raftPort) = (FreePort(), FreePort());
        var path = directory.File("cluster.json");
        File.WriteAllText(path, $$"""
            { "Cluster": { "IdBits": 64, "Replicas": 1, "DataDirectory": "data", "MaxValueBytes": {{maxValueBytes}},
              "SnapshotIntervalSeconds": {{snapshotIntervalSeconds}},
              "Nodes": [ { "Name": "{{NodeName}}", "Position": 0, "Host": "127.0.0.1", "GrpcPort": {{grpcPort}}, "RaftPort": {{raftPort}} } ] } }
            """);
        return new TestTopology(path, grpcPort, raftPort);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
