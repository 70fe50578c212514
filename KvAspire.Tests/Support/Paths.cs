using System.Reflection;

namespace KvAspire.Tests.Support;

/// <summary>Where the built node, client and benchmark harness are, as recorded at build time.</summary>
public static class Paths
{
    public static string NodeDll => Metadata("KvAspire.NodeDll");

    public static string ClientDll => Metadata("KvAspire.ClientDll");

    public static string BenchDll => Metadata("KvAspire.BenchDll");

    public static string RepositoryFile(string name) =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(NodeDll)!, "..", "..", "..", "..", name));

    private static string Metadata(string key) =>
        typeof(Paths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
}
