using System.Text.Json;

namespace KvAspire.Cluster;

/// <summary>
/// Reads <c>cluster.json</c> and checks it whole, so that a mistake is reported once, with the file and
/// the field, before anything listens or writes.
/// </summary>
public static class TopologyLoader
{
    public const string SectionName = "Cluster";

    public static ClusterTopology Load(string path)
    {
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TopologyException($"{path}: cannot read the topology file: {e.Message}");
        }
        return Parse(json, path);
    }

    public static ClusterTopology Parse(string json, string sourcePath)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new TopologyException($"{sourcePath}: not valid JSON: {e.Message}");
        }

        using (document)
        {
            var fields = new FieldReader(sourcePath);
            if (document.RootElement.ValueKind != JsonValueKind.Object ||
                !document.RootElement.TryGetProperty(SectionName, out var cluster) ||
                cluster.ValueKind != JsonValueKind.Object)
            {
                throw new TopologyException($"{sourcePath}: missing the \"{SectionName}\" object");
            }

            var idBits = fields.Int(cluster, "IdBits", SectionName, defaultValue: 64);
            var replicas = fields.Int(cluster, "Replicas", SectionName, defaultValue: 3);
            var snapshotSeconds = fields.Int(cluster, "SnapshotIntervalSeconds", SectionName, defaultValue: 30);
            var dataDirectory = fields.String(cluster, "DataDirectory", SectionName, defaultValue: "data");
            var maxValueBytes = fields.Int(cluster, "MaxValueBytes", SectionName, defaultValue: 1024 * 1024);
            var queueCapacity = fields.Int(cluster, "QueueCapacity", SectionName, defaultValue: 8192);
            var electionTimeoutMs = fields.Int(cluster, "ElectionTimeoutMs", SectionName, defaultValue: 600);
            var placementTags = fields.Bool(cluster, "PlacementTags", SectionName, defaultValue: false);
            var watchHistoryMiB = fields.Int(cluster, "WatchHistoryMiB", SectionName, defaultValue: 64);

            var tls = ReadTls(cluster, fields, sourcePath);

            if (!cluster.TryGetProperty("Nodes", out var nodesElement) || nodesElement.ValueKind != JsonValueKind.Array)
                throw new TopologyException($"{sourcePath}: {SectionName}.Nodes is missing or not an array");

            var nodes = new List<NodeInfo>();
            var index = 0;
            foreach (var element in nodesElement.EnumerateArray())
            {
                var where = $"{SectionName}.Nodes[{index++}]";
                if (element.ValueKind != JsonValueKind.Object)
                    throw new TopologyException($"{sourcePath}: {where} is not an object");
                nodes.Add(new NodeInfo(
                    Name: fields.String(element, "Name", where),
                    Position: fields.Int(element, "Position", where),
                    Replica: fields.Int(element, "Replica", where, defaultValue: -1),
                    Host: fields.String(element, "Host", where),
                    GrpcPort: fields.Int(element, "GrpcPort", where),
                    RaftPort: fields.Int(element, "RaftPort", where),
                    ListenAddress: fields.OptionalString(element, "ListenAddress", where))
                {
                    Scheme = tls is null ? "http" : "https",
                    Spare = fields.Bool(element, "Spare", where, defaultValue: false),
                });
            }

            var topology = new ClusterTopology(sourcePath, idBits, replicas, snapshotSeconds, dataDirectory,
                maxValueBytes, queueCapacity, electionTimeoutMs, NumberReplicas(nodes), placementTags, watchHistoryMiB, tls);
            Validate(topology);
            return topology;
        }
    }

    /// <summary>
    /// <c>"Tls": { "Authority": "certs/ca.crt", "Certificates": "certs" }</c>, paths relative to the topology
    /// file; absent, the cluster is plaintext.
    /// </summary>
    private static TopologyTls? ReadTls(JsonElement cluster, FieldReader fields, string sourcePath)
    {
        const string where = SectionName + ".Tls";
        if (!cluster.TryGetProperty("Tls", out var tls))
            return null;
        if (tls.ValueKind != JsonValueKind.Object)
            throw new TopologyException($"{sourcePath}: {where} must be an object with \"Authority\" and \"Certificates\", not {tls.GetRawText()}");
        return new TopologyTls(
            ClusterTopology.FromFile(sourcePath, fields.String(tls, "Authority", where)),
            ClusterTopology.FromFile(sourcePath, fields.String(tls, "Certificates", where)));
    }

    /// <summary>A node without an explicit Replica gets its rank among the nodes of its position, in file order.</summary>
    private static List<NodeInfo> NumberReplicas(List<NodeInfo> nodes)
    {
        var seen = new Dictionary<int, int>();
        return nodes.Select(node =>
        {
            var rank = seen.GetValueOrDefault(node.Position);
            seen[node.Position] = rank + 1;
            return node.Replica >= 0 ? node : node with { Replica = rank };
        }).ToList();
    }

    private static void Validate(ClusterTopology t)
    {
        var file = t.SourcePath;
        if (t.IdBits is < 1 or > 64)
            throw new TopologyException($"{file}: IdBits must be between 1 and 64, not {t.IdBits}");
        if (t.Replicas < 1)
            throw new TopologyException($"{file}: Replicas must be at least 1, not {t.Replicas}");
        if (t.SnapshotIntervalSeconds < 1)
            throw new TopologyException($"{file}: SnapshotIntervalSeconds must be at least 1, not {t.SnapshotIntervalSeconds}");
        if (string.IsNullOrWhiteSpace(t.DataDirectory))
            throw new TopologyException($"{file}: DataDirectory must not be empty");
        if (t.MaxValueBytes < 1)
            throw new TopologyException($"{file}: MaxValueBytes must be at least 1, not {t.MaxValueBytes}");
        if (t.QueueCapacity < 1)
            throw new TopologyException($"{file}: QueueCapacity must be at least 1, not {t.QueueCapacity}");
        if (t.ElectionTimeoutMs is < 50 or > 60_000)
            throw new TopologyException($"{file}: ElectionTimeoutMs must be between 50 and 60000, not {t.ElectionTimeoutMs}");
        if (t.WatchHistoryMiB is < 1 or > 65_536)
            throw new TopologyException($"{file}: WatchHistoryMiB must be between 1 and 65536, not {t.WatchHistoryMiB}");
        if (t.Nodes.Count == 0)
            throw new TopologyException($"{file}: Nodes is empty; a cluster needs at least one node");

        var names = new HashSet<string>(StringComparer.Ordinal);
        var endpoints = new Dictionary<(string Host, int Port), string>();
        foreach (var node in t.Nodes)
        {
            if (string.IsNullOrWhiteSpace(node.Name))
                throw new TopologyException($"{file}: a node has an empty Name");
            if (!names.Add(node.Name))
                throw new TopologyException($"{file}: duplicate node name '{node.Name}'");
            if (string.IsNullOrWhiteSpace(node.Host))
                throw new TopologyException($"{file}: node '{node.Name}' has an empty Host");
            if (node.ListenAddress is { } listen && !IsBindable(listen))
                throw new TopologyException($"{file}: node '{node.Name}' has ListenAddress '{listen}': use an IP address of its machine, " +
                                            $"\"0.0.0.0\" or \"{NodeInfo.AnyAddress}\" (every interface), or \"localhost\"");
            if (node.Position < 0)
                throw new TopologyException($"{file}: node '{node.Name}' has a negative Position ({node.Position})");
            if (node.Replica >= t.Replicas)
                throw new TopologyException($"{file}: node '{node.Name}' is replica {node.Replica}, but Replicas is {t.Replicas}");
            foreach (var (field, port) in new[] { ("GrpcPort", node.GrpcPort), ("RaftPort", node.RaftPort) })
            {
                if (port is < 1 or > 65535)
                    throw new TopologyException($"{file}: node '{node.Name}' has {field} {port}, outside 1..65535");
                var host = node.Host.Trim().ToLowerInvariant();
                if (!endpoints.TryAdd((host, port), $"{node.Name}.{field}"))
                    throw new TopologyException($"{file}: duplicate port {port} on {node.Host}: {endpoints[(host, port)]} and {node.Name}.{field}");
            }
        }

        var positions = t.Nodes.GroupBy(n => n.Position).OrderBy(g => g.Key).ToList();
        for (var i = 0; i < positions.Count; i++)
        {
            if (positions[i].Key != i)
                throw new TopologyException($"{file}: positions must be numbered 0..{positions.Count - 1} without gaps; position {i} has no node");
            var count = positions[i].Count();
            if (count != t.Replicas)
                throw new TopologyException($"{file}: position {i} has {count} node(s), but Replicas is {t.Replicas}");
            var duplicateReplica = positions[i].GroupBy(n => n.Replica).FirstOrDefault(g => g.Count() > 1);
            if (duplicateReplica is not null)
                throw new TopologyException($"{file}: position {i} has replica {duplicateReplica.Key} more than once");
            if (positions[i].Any(n => n.Spare) && !positions[i].All(n => n.Spare))
                throw new TopologyException($"{file}: position {i} has spare and serving nodes; a position's nodes are all spares (its group waits to be added) or none");
            if (i > 0 && positions[i - 1].First().Spare && !positions[i].First().Spare)
                throw new TopologyException($"{file}: position {i} serves, but position {i - 1} is spare: spare positions come after the ring's");
        }
        if (positions.Count > 0 && positions[0].First().Spare)
            throw new TopologyException($"{file}: every position is spare; a ring starts with at least one position that serves");
        if (t.IdBits < 64 && (ulong)positions.Count > 1UL << t.IdBits)
            throw new TopologyException($"{file}: {positions.Count} positions do not fit in an identifier space of {t.IdBits} bits");
    }

    private static bool IsBindable(string address) =>
        address == NodeInfo.AnyAddress || string.Equals(address, "localhost", StringComparison.OrdinalIgnoreCase)
        || System.Net.IPAddress.TryParse(address, out _);

    /// <summary>Reads typed fields, naming the file and the field in every error.</summary>
    private sealed class FieldReader(string sourcePath)
    {
        public int Int(JsonElement parent, string name, string where, int? defaultValue = null)
        {
            if (!parent.TryGetProperty(name, out var value))
                return defaultValue ?? throw Missing(name, where);
            if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var result))
                throw new TopologyException($"{sourcePath}: {where}.{name} must be an integer, not {value.GetRawText()}");
            return result;
        }

        public string String(JsonElement parent, string name, string where, string? defaultValue = null)
        {
            if (!parent.TryGetProperty(name, out var value))
                return defaultValue ?? throw Missing(name, where);
            if (value.ValueKind != JsonValueKind.String)
                throw new TopologyException($"{sourcePath}: {where}.{name} must be a string, not {value.GetRawText()}");
            return value.GetString()!;
        }

        public bool Bool(JsonElement parent, string name, string where, bool defaultValue)
        {
            if (!parent.TryGetProperty(name, out var value))
                return defaultValue;
            if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                throw new TopologyException($"{sourcePath}: {where}.{name} must be true or false, not {value.GetRawText()}");
            return value.GetBoolean();
        }

        public string? OptionalString(JsonElement parent, string name, string where) =>
            parent.TryGetProperty(name, out _) ? String(parent, name, where) : null;

        private TopologyException Missing(string name, string where) =>
            new($"{sourcePath}: {where} is missing the required field \"{name}\"");
    }
}
