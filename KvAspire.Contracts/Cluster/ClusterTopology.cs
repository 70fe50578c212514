namespace KvAspire.Cluster;

/// <summary>One node of the topology: replica <see cref="Replica"/> of ring position <see cref="Position"/>.</summary>
/// <param name="Host">The address the other nodes and clients use to reach the node (its identity in Raft).</param>
/// <param name="ListenAddress">
/// Where the node binds, when not at <paramref name="Host"/>: an IP address of its machine, <c>0.0.0.0</c> or
/// <c>*</c> (every interface), or <c>localhost</c>. A node behind NAT, in a container or on a host reached
/// by name binds here and is still reached at <paramref name="Host"/>.
/// </param>
public sealed record NodeInfo(string Name, int Position, int Replica, string Host, int GrpcPort, int RaftPort, string? ListenAddress = null)
{
    public const string AnyAddress = "*";

    /// <summary>"https" when the cluster serves TLS (<see cref="ClusterTopology.Tls"/>), else "http".</summary>
    public string Scheme { get; init; } = "http";

    /// <summary>The address the node binds its ports to.</summary>
    public string BindAddress => ListenAddress ?? Host;

    /// <summary>The URI of the gRPC endpoint, for a channel to the node.</summary>
    public string GrpcUri => $"{Scheme}://{Host}:{GrpcPort}";

    /// <summary>host:port of the gRPC endpoint, as clients and leader hints name a node.</summary>
    public string GrpcEndPoint => $"{Host}:{GrpcPort}";

    /// <summary>The URI of the Raft and HTTP port (Raft messages, status, health).</summary>
    public string HttpUri => $"{Scheme}://{Host}:{RaftPort}";

    /// <summary>
    /// A node of a position the ring does not have when it starts (<c>"Spare": true</c>): its group forms and
    /// waits, serving no key, until a move adds its position (<c>ring add-position</c>).
    /// </summary>
    public bool Spare { get; init; }
}

/// <summary>
/// The validated contents of <c>cluster.json</c>: an immutable value, replaced whole, never edited.
/// </summary>
/// <param name="PlacementTags">Keys with a <c>{tag}</c> are placed by the tag (<see cref="Routing.RingMath.PlacementPart"/>); fixed for a ring's life.</param>
/// <param name="WatchHistoryMiB">The changes each replica keeps for watches from an earlier revision, in MiB.</param>
/// <param name="Tls">The cluster's certificates when every port serves TLS; null: plaintext (development on loopback).</param>
public sealed record ClusterTopology(
    string SourcePath,
    int IdBits,
    int Replicas,
    int SnapshotIntervalSeconds,
    string DataDirectory,
    int MaxValueBytes,
    int QueueCapacity,
    int ElectionTimeoutMs,
    IReadOnlyList<NodeInfo> Nodes,
    bool PlacementTags,
    int WatchHistoryMiB,
    TopologyTls? Tls = null)
{
    public const int MaxKeyBytes = 1024;

    /// <summary>The positions the ring starts with (spare ones not counted).</summary>
    public int Positions => Nodes.Where(n => !n.Spare).Select(n => n.Position).Distinct().Count();

    /// <summary>Every position the cluster has nodes for, spare ones included: the ring's positions are numbered below it.</summary>
    public int PositionsWithSpares => Nodes.Max(n => n.Position) + 1;

    /// <summary>The nodes of <paramref name="position"/> (spares included), by replica number.</summary>
    public IReadOnlyList<NodeInfo> ReplicasOf(int position) => [.. Nodes.Where(n => n.Position == position).OrderBy(n => n.Replica)];

    public NodeInfo GetNode(string name) =>
        Nodes.FirstOrDefault(n => string.Equals(n.Name, name, StringComparison.Ordinal))
        ?? throw new TopologyException(
            $"{SourcePath}: unknown node name '{name}'; the nodes are {string.Join(", ", Nodes.Select(n => n.Name))}");

    /// <summary>
    /// <c>&lt;DataDirectory&gt;/&lt;Name&gt;</c>, a relative DataDirectory being relative to the topology file.
    /// </summary>
    public string DataDirectoryOf(NodeInfo node) => FromFile(SourcePath, Path.Combine(DataDirectory, node.Name));

    /// <summary><paramref name="path"/> as an absolute path, a relative one being relative to the topology file at <paramref name="sourcePath"/>.</summary>
    public static string FromFile(string sourcePath, string path) =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(sourcePath)) ?? ".", path));
}

/// <summary>
/// Where a cluster with TLS keeps its certificates (absolute paths): the CA's certificate, and a directory
/// with each node's <c>&lt;node&gt;.crt</c> and <c>&lt;node&gt;.key</c> (PEM).
/// </summary>
public sealed record TopologyTls(string AuthorityPath, string CertificatesDirectory)
{
    public string CertificateOf(NodeInfo node) => Path.Combine(CertificatesDirectory, $"{node.Name}.crt");

    public string KeyOf(NodeInfo node) => Path.Combine(CertificatesDirectory, $"{node.Name}.key");
}

/// <summary>The topology file is missing, malformed or inconsistent; the message says where and why.</summary>
public sealed class TopologyException(string message) : Exception(message);
