using System.Text.Json;
using System.Text.Json.Nodes;
using KvAspire.Cluster;
using KvAspire.Security;

namespace Aspire.Hosting;

/// <summary>
/// The AppHost's TLS switch: a CA and a member certificate per node (<see cref="DevelopmentCertificates"/>,
/// new each run), and beside them a copy of the topology file that names them (<c>Cluster.Tls</c>). The copy
/// keeps its data in the original data directory's <c>-tls</c> sibling: a cluster's members are named by
/// their Raft addresses, <c>http</c> or <c>https</c>, so a plaintext cluster's data is not a TLS cluster's.
/// </summary>
internal static class DevelopmentTls
{
    /// <summary>Writes the certificates and the topology with TLS under <paramref name="appHostDirectory"/>'s <c>obj/</c>; returns that topology's path.</summary>
    public static string Write(string appHostDirectory, string name, string clusterFile)
    {
        var topology = TopologyLoader.Load(clusterFile);
        if (topology.Tls is not null)
            return clusterFile;
        var directory = Path.Combine(appHostDirectory, "obj", $"{name}-tls");
        var certificates = Path.Combine(directory, "certs");
        DevelopmentCertificates.Write(certificates, topology.Nodes.Select(n => (n.Name, (IEnumerable<string>)[n.Host])), TimeSpan.FromDays(30));

        var json = JsonNode.Parse(File.ReadAllText(clusterFile), documentOptions: new JsonDocumentOptions
        {
            CommentHandling = JsonCommentHandling.Skip,
            AllowTrailingCommas = true,
        })!;
        var cluster = json[TopologyLoader.SectionName]!.AsObject();
        cluster["DataDirectory"] = ClusterTopology.FromFile(clusterFile, topology.DataDirectory) + "-tls";
        cluster["Tls"] = new JsonObject
        {
            ["Authority"] = Path.Combine(certificates, DevelopmentCertificates.AuthorityFile),
            ["Certificates"] = certificates,
        };
        var path = Path.Combine(directory, "cluster.json");
        File.WriteAllText(path, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return path;
    }
}
