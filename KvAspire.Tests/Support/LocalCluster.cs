using System.Net.Http.Json;
using System.Text.Json;
using KvAspire.Node.Replication;

namespace KvAspire.Tests.Support;

/// <summary>
/// Every node of a test topology as a real process on loopback, each of which can be stopped (SIGTERM),
/// killed (kill -9) and started again, with each node's view of its Raft group from <c>/status</c>.
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(2) };
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly Dictionary<string, NodeProcess?> _processes;

    private LocalCluster(TestTopology topology, IEnumerable<NodeProcess> processes)
    {
        Topology = topology;
        _processes = topology.Nodes.Zip(processes).ToDictionary(p => p.First.Name, p => (NodeProcess?)p.Second);
    }

    public TestTopology Topology { get; }

    /// <summary>Starts every node at once and returns when each is healthy and its group has a leader.</summary>
    public static async Task<LocalCluster> StartAsync(TestTopology topology)
    {
        var processes = await Task.WhenAll(topology.Nodes.Select(n => NodeProcess.StartAsync(topology, n)));
        var cluster = new LocalCluster(topology, processes);
        foreach (var position in topology.Nodes.Select(n => n.Position).Distinct())
            await cluster.WaitForLeaderAsync(position, TimeSpan.FromSeconds(30));
        return cluster;
    }

    public string OutputOf(TestNode node) => _processes[node.Name]?.Output ?? "(not running)";

    /// <summary>SIGTERM; returns the node's exit code.</summary>
    public async Task<int> StopAsync(TestNode node)
    {
        await using var process = Take(node);
        return await process.StopAsync();
    }

    public async Task KillAsync(TestNode node)
    {
        await using var process = Take(node);
        await process.KillAsync();
    }

    public async Task StartAsync(TestNode node)
    {
        if (_processes[node.Name] is not null)
            throw new InvalidOperationException($"{node.Name} is already running");
        _processes[node.Name] = await NodeProcess.StartAsync(Topology, node);
    }

    /// <summary>The node's view of its group, or null when it does not answer.</summary>
    public static async Task<GroupStatusReport?> StatusAsync(TestNode node)
    {
        try
        {
            return await Http.GetFromJsonAsync<GroupStatusReport>(node.StatusAddress, Json);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
        {
            return null;
        }
    }

    /// <summary>The replica of <paramref name="position"/> that says it leads, once one does.</summary>
    public async Task<TestNode> WaitForLeaderAsync(int position, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            foreach (var node in Topology.ReplicasOf(position))
            {
                if (await StatusAsync(node) is { Role: "leader" })
                    return node;
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"position {position} had no leader within {timeout}");
            await Task.Delay(50);
        }
    }

    /// <summary>Waits until <paramref name="node"/> has applied everything its leader had applied when the wait began.</summary>
    public async Task WaitCaughtUpAsync(TestNode node, TimeSpan timeout)
    {
        var leader = await WaitForLeaderAsync(node.Position, timeout);
        var target = (await StatusAsync(leader))?.AppliedIndex ?? 0;
        var deadline = DateTime.UtcNow + timeout;
        while (await StatusAsync(node) is not { Leader: not null } status || status.AppliedIndex < target)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{node.Name} did not apply up to index {target} within {timeout}:{Environment.NewLine}{OutputOf(node)}");
            await Task.Delay(50);
        }
    }

    private NodeProcess Take(TestNode node)
    {
        var process = _processes[node.Name] ?? throw new InvalidOperationException($"{node.Name} is not running");
        _processes[node.Name] = null;
        return process;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes.Values.OfType<NodeProcess>())
            await process.DisposeAsync();
    }
}
