using System.Reflection;
using KvAspire.Client;
using KvAspire.Driver;
using KvAspire.Node;
using NetArchTest.Rules;

namespace KvAspire.Tests.Unit;

/// <summary>
/// The code's dependencies run one way. The node's folders are layers along a request's path: the edge
/// (gRPC services and interceptors; what the ports answer while the node starts), routing and consensus, the peers (channels to other nodes), the
/// pipeline, the pure state and its files; telemetry and configuration under everything. A layer uses
/// only those below it. In every project, no folder uses another that uses it back, directly or not.
/// </summary>
[Trait("Category", "Unit")]
public sealed class ArchitectureTests
{
    // Top to bottom; folders on one line are side by side and use neither each other nor anything above.
    private static readonly string[][] NodeLayers =
    [
        ["Api", "Startup"],
        ["Ring", "Replication", "Membership"],
        ["Consensus"],
        ["Peers"],
        ["Pipeline"],
        ["Storage", "Concurrency"],
        ["Telemetry", "Configuration", "Errors"],
    ];

    public static TheoryData<string, string> NodeDependenciesThatRunBackwards()
    {
        var data = new TheoryData<string, string>();
        for (var layer = 0; layer < NodeLayers.Length; layer++)
        {
            foreach (var folder in NodeLayers[layer])
            {
                foreach (var above in NodeLayers.Take(layer + 1).SelectMany(l => l).Where(f => f != folder))
                    data.Add(folder, above);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(NodeDependenciesThatRunBackwards))]
    public void A_layer_of_the_node_uses_nothing_above_or_beside_it(string folder, string forbidden)
    {
        var result = Types.InAssembly(typeof(NodeStartup).Assembly).That().ResideInNamespace($"KvAspire.Node.{folder}")
            .ShouldNot().HaveDependencyOn($"KvAspire.Node.{forbidden}").GetResult();

        Assert.True(result.IsSuccessful,
            $"{folder}/ must not use {forbidden}/, yet these do: {string.Join(", ", result.FailingTypeNames ?? [])}");
    }

    [Fact]
    public void Every_node_folder_is_in_a_layer()
    {
        var folders = FolderNamespaces(typeof(NodeStartup).Assembly, "KvAspire.Node").Select(n => n["KvAspire.Node.".Length..]);

        Assert.Empty(folders.Except(NodeLayers.SelectMany(l => l)));
    }

    public static TheoryData<string, string> Projects() => new()
    {
        { typeof(NodeStartup).Assembly.Location, "KvAspire.Node" },
        { typeof(KvAspire.Routing.RingMath).Assembly.Location, "KvAspire" },
        { typeof(IKvClient).Assembly.Location, "KvAspire.Driver" },
        { typeof(ClientOptions).Assembly.Location, "KvAspire.Client" },
    };

    [Theory]
    [MemberData(nameof(Projects))]
    public void No_folder_uses_one_that_uses_it_back(string assemblyPath, string rootNamespace)
    {
        var assembly = Assembly.LoadFrom(assemblyPath);
        var folders = FolderNamespaces(assembly, rootNamespace);
        var uses = folders.ToDictionary(f => f, f => folders.Where(other => other != f && Uses(assembly, f, other)).ToHashSet());

        var cycles = from a in folders
                     from b in uses[a]
                     where Reaches(uses, b, a)
                     select $"{a} -> {b}";

        Assert.Empty(cycles);
    }

    // The namespaces one level below the root: a project's folders. The root's own types (the composition
    // root, which wires every layer) are not a folder.
    private static List<string> FolderNamespaces(Assembly assembly, string rootNamespace) =>
        assembly.GetTypes().Select(t => t.Namespace).OfType<string>()
            .Where(n => n.StartsWith(rootNamespace + ".", StringComparison.Ordinal))
            .Select(n => string.Join('.', n.Split('.').Take(rootNamespace.Split('.').Length + 1)))
            .Distinct().Order().ToList();

    private static bool Uses(Assembly assembly, string folder, string other) =>
        !Types.InAssembly(assembly).That().ResideInNamespace(folder).ShouldNot().HaveDependencyOn(other).GetResult().IsSuccessful;

    private static bool Reaches(Dictionary<string, HashSet<string>> uses, string from, string to)
    {
        var seen = new HashSet<string>();
        var next = new Stack<string>([from]);
        while (next.TryPop(out var folder))
        {
            if (folder == to)
                return true;
            if (seen.Add(folder))
                uses[folder].ToList().ForEach(next.Push);
        }
        return false;
    }
}
